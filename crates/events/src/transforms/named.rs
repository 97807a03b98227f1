//! Transforms by Tonic's class name with their settings as JSON (the Python package's
//! `spikeforge.transform(events, "Denoise", filter_time=1000)`).

use serde::de::DeserializeOwned;

use super::{
    CenterCrop, Decimation, Denoise, DropEvent, DropEventByArea, DropEventByTime, MergePolarities,
    RandomCrop, RandomFlipLR, RandomFlipUD, RefractoryPeriod, SpatialJitter, TimeJitter, TimeSkew,
    Transform, TransformError,
};

/// The transforms [`named`] knows, by Tonic's names.
pub const NAMES: [&str; 14] = [
    "Denoise",
    "RefractoryPeriod",
    "Decimation",
    "DropEvent",
    "DropEventByTime",
    "DropEventByArea",
    "RandomFlipLR",
    "RandomFlipUD",
    "RandomCrop",
    "CenterCrop",
    "SpatialJitter",
    "TimeJitter",
    "TimeSkew",
    "MergePolarities",
];

/// The transform called `name` (Tonic's class name) with `settings`, an object of its
/// fields (the struct's field names; a sensor is `width` and `height`; omitted fields take
/// Tonic's defaults; a range is `[low, high]`). Unknown names and fields are errors.
pub fn named(
    name: &str,
    settings: serde_json::Value,
) -> Result<Box<dyn Transform + Send + Sync>, TransformError> {
    fn parse<T: DeserializeOwned + Transform + Send + Sync + 'static>(
        name: &'static str,
        settings: serde_json::Value,
    ) -> Result<Box<dyn Transform + Send + Sync>, TransformError> {
        serde_json::from_value::<T>(settings)
            .map(|t| Box::new(t) as Box<dyn Transform + Send + Sync>)
            .map_err(|e| super::setting(name, e.to_string()))
    }
    match name {
        "Denoise" => parse::<Denoise>("Denoise", settings),
        "RefractoryPeriod" => parse::<RefractoryPeriod>("RefractoryPeriod", settings),
        "Decimation" => parse::<Decimation>("Decimation", settings),
        "DropEvent" => parse::<DropEvent>("DropEvent", settings),
        "DropEventByTime" => parse::<DropEventByTime>("DropEventByTime", settings),
        "DropEventByArea" => parse::<DropEventByArea>("DropEventByArea", settings),
        "RandomFlipLR" => parse::<RandomFlipLR>("RandomFlipLR", settings),
        "RandomFlipUD" => parse::<RandomFlipUD>("RandomFlipUD", settings),
        "RandomCrop" => parse::<RandomCrop>("RandomCrop", settings),
        "CenterCrop" => parse::<CenterCrop>("CenterCrop", settings),
        "SpatialJitter" => parse::<SpatialJitter>("SpatialJitter", settings),
        "TimeJitter" => parse::<TimeJitter>("TimeJitter", settings),
        "TimeSkew" => parse::<TimeSkew>("TimeSkew", settings),
        "MergePolarities" => match settings {
            serde_json::Value::Null => Ok(Box::new(MergePolarities)),
            serde_json::Value::Object(fields) if fields.is_empty() => Ok(Box::new(MergePolarities)),
            other => Err(super::setting(
                "MergePolarities",
                format!("takes no settings, not {other}"),
            )),
        },
        other => Err(TransformError::Setting {
            transform: "transform",
            problem: format!(
                "no transform `{other}`; the transforms are {}",
                NAMES.join(", ")
            ),
        }),
    }
}

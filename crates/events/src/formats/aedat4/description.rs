//! The streams an AEDAT 4 header describes: its `description` is DV's XML configuration
//! tree, `<dv><node name="outInfo"><node name="ID">` per stream with
//! `<attr key="typeIdentifier">EVTS</attr>` (or `FRME`, `IMUS`, `TRIG`, …) and, for events
//! and frames, `<node name="info">` with `<attr key="sizeX">` and `<attr key="sizeY">`.
//!
//! DV writes this XML itself, so a small scanner reads it (tags, attributes in double or
//! single quotes, text; declarations, comments and `<!…>` skipped), no XML library: only the
//! `node` path and the `attr` elements' keys and text matter.

use std::collections::BTreeMap;

use super::flatbuffer::Problem;

/// One stream of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stream {
    /// Its id, as packets name it.
    pub id: i32,
    /// Its four-letter type (`EVTS` for events).
    pub kind: String,
    /// `(sizeY, sizeX)` where given.
    pub size: Option<(usize, usize)>,
}

/// What is read of one stream's node.
#[derive(Default)]
struct Partial {
    at: usize,
    kind: Option<String>,
    size_x: Option<(usize, String)>,
    size_y: Option<(usize, String)>,
}

/// The streams of `xml`, in (numeric) id order; offsets in problems are offsets into `xml`.
pub(super) fn streams(xml: &str) -> Result<Vec<Stream>, Problem> {
    let mut partials: BTreeMap<String, Partial> = BTreeMap::new();
    // The `name` of every open element (`""` for one without), outermost first.
    let mut open: Vec<(String, String)> = Vec::new();
    let mut at = 0;
    while let Some(found) = xml[at..].find('<') {
        let start = at + found;
        let rest = &xml[start..];
        let skip_to = |end: &str| {
            rest.find(end)
                .map(|e| start + e + end.len())
                .ok_or_else(|| (start, format!("`{end}` closing this XML markup")))
        };
        if rest.starts_with("<?") {
            at = skip_to("?>")?;
            continue;
        }
        if rest.starts_with("<!--") {
            at = skip_to("-->")?;
            continue;
        }
        if rest.starts_with("<!") {
            at = skip_to(">")?;
            continue;
        }
        let end = skip_to(">")?;
        let tag = &xml[start + 1..end - 1];
        at = end;
        if let Some(closing) = tag.strip_prefix('/') {
            match open.pop() {
                Some((name, _)) if name == closing.trim() => continue,
                _ => return Err((start, format!("a matching end tag; found `</{closing}>`"))),
            }
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (element, attributes) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let attributes = parse_attributes(attributes)
            .ok_or_else(|| (start, format!("attributes `key=\"value\"` in `<{tag}>`")))?;
        let attribute = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(String::new(), |(_, v)| v.to_string())
        };
        if element == "attr" && !self_closing {
            let text_end = xml[at..].find('<').map_or(xml.len(), |e| at + e);
            record(
                &mut partials,
                &open,
                &attribute("key"),
                (at, xml[at..text_end].trim()),
            );
        }
        if !self_closing {
            open.push((element.to_string(), attribute("name")));
        }
    }
    if let Some((name, _)) = open.last() {
        return Err((
            xml.len(),
            format!("the end tag of `<{name}>`; the description ends first"),
        ));
    }
    let mut streams = partials
        .into_iter()
        .map(|(id, p)| finish(&id, p))
        .collect::<Result<Vec<_>, _>>()?;
    streams.sort_by_key(|s| s.id);
    if let Some(pair) = streams.windows(2).find(|pair| pair[0].id == pair[1].id) {
        return Err((
            0,
            format!("stream ids listed once; {} is listed twice", pair[0].id),
        ));
    }
    Ok(streams)
}

/// Records an `attr` of key `key` and text `text` (at its offset) if it belongs to a stream:
/// the open elements are `dv`, `node outInfo`, `node ID` (and `node info` for sizes).
fn record(
    partials: &mut BTreeMap<String, Partial>,
    open: &[(String, String)],
    key: &str,
    (at, text): (usize, &str),
) {
    let names: Vec<(&str, &str)> = open.iter().map(|(e, n)| (e.as_str(), n.as_str())).collect();
    match names.as_slice() {
        [("dv", _), ("node", "outInfo"), ("node", id)] if key == "typeIdentifier" => {
            let partial = partials.entry(id.to_string()).or_default();
            partial.at = at;
            partial.kind = Some(text.to_string());
        }
        [
            ("dv", _),
            ("node", "outInfo"),
            ("node", id),
            ("node", "info"),
        ] => {
            let partial = partials.entry(id.to_string()).or_default();
            // Errors about a stream point at its first attribute until its type is read.
            if partial.kind.is_none() && partial.at == 0 {
                partial.at = at;
            }
            match key {
                "sizeX" => partial.size_x = Some((at, text.to_string())),
                "sizeY" => partial.size_y = Some((at, text.to_string())),
                _ => {}
            }
        }
        _ => {}
    }
}

fn finish(id: &str, partial: Partial) -> Result<Stream, Problem> {
    let at = partial.at;
    let id_number = id
        .parse::<i32>()
        .map_err(|_| (at, format!("a numeric stream id; found `{id}`")))?;
    let kind = partial
        .kind
        .ok_or_else(|| (at, format!("a typeIdentifier for stream {id}")))?;
    let dimension = |value: Option<(usize, String)>| -> Result<Option<usize>, Problem> {
        value
            .map(|(at, text)| match text.parse::<usize>() {
                Ok(n @ 1..=32768) => Ok(n),
                _ => Err((
                    at,
                    format!("a sensor dimension of 1 to 32768; found `{text}`"),
                )),
            })
            .transpose()
    };
    let size = match (dimension(partial.size_y)?, dimension(partial.size_x)?) {
        (Some(h), Some(w)) => Some((h, w)),
        (None, None) if kind != "EVTS" => None,
        _ => {
            return Err((
                at,
                format!(
                    "both sizeX and sizeY (or, for a stream other than events, neither) of {kind} stream {id}"
                ),
            ));
        }
    };
    Ok(Stream {
        id: id_number,
        kind,
        size,
    })
}

/// `key="value"` pairs (double or single quotes), or `None` if malformed.
fn parse_attributes(mut text: &str) -> Option<Vec<(&str, &str)>> {
    let mut pairs = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Some(pairs);
        }
        let (key, rest) = text.split_once('=')?;
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let (value, rest) = rest[1..].split_once(quote)?;
        pairs.push((key.trim(), value));
        text = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_read_from_dv_descriptions() {
        let xml = "<?xml version=\"1.0\"?><dv version=\"2.0\"><!-- c --><node name=\"outInfo\" \
                   path=\"/outInfo/\"><node name=\"10\"><attr key=\"typeIdentifier\" \
                   type=\"string\">TRIG</attr></node><node name='2'><attr key='typeIdentifier'>\
                   EVTS</attr><node name=\"info\"><attr key=\"sizeX\" type=\"int\">346</attr>\
                   <attr key=\"sizeY\" type=\"int\">260</attr></node></node></node></dv>";
        let streams = streams(xml).unwrap();
        assert_eq!(
            streams,
            [
                Stream {
                    id: 2,
                    kind: "EVTS".into(),
                    size: Some((260, 346))
                },
                Stream {
                    id: 10,
                    kind: "TRIG".into(),
                    size: None
                },
            ]
        );
    }

    #[test]
    fn broken_descriptions_are_refused_with_their_offset() {
        for (xml, expected) in [
            ("<dv><node name=\"outInfo\">", "end tag"),
            ("<dv></node>", "matching end tag"),
            (
                "<dv><node name=\"outInfo\"><node name=\"x\"><attr key=\"typeIdentifier\">EVTS</attr></node></node></dv>",
                "numeric stream id",
            ),
            (
                "<dv><node name=\"outInfo\"><node name=\"0\"><attr key=\"typeIdentifier\">EVTS</attr></node></node></dv>",
                "sizeX and sizeY",
            ),
            ("<dv a=b>", "attributes"),
            (
                "<dv><node name=\"outInfo\"><node name=\"1\"><attr key=\"typeIdentifier\">TRIG</attr></node><node name=\"01\"><attr key=\"typeIdentifier\">TRIG</attr></node></node></dv>",
                "listed twice",
            ),
        ] {
            let (_, why) = streams(xml).unwrap_err();
            assert!(why.contains(expected), "{xml}: {why}");
        }
    }
}

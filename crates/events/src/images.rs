//! Still-image inputs of the emulator: MNIST IDX files, CIFAR-10 binary batches, and folders
//! of PNG/JPEG images per class. Every image becomes grayscale intensities in `[0, 1]`.

use std::path::Path;

use crate::dataset::scan_class_folders;
use crate::error::{EventsError, Result};
use crate::formats::read_bytes;
use crate::saccades::Image;

/// An image and its class.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImage {
    /// The image.
    pub image: Image,
    /// Its class index.
    pub label: u16,
}

/// MNIST's IDX files: `images` (magic 2051, `u8` pixels) and `labels` (magic 2049).
pub fn read_mnist_idx(images: &Path, labels: &Path) -> Result<Vec<LabelledImage>> {
    let image_bytes = read_bytes(images)?;
    let label_bytes = read_bytes(labels)?;
    let header = |bytes: &[u8], path: &Path, magic: u32, words: usize| -> Result<Vec<usize>> {
        let fields: Vec<u32> = bytes
            .chunks_exact(4)
            .take(words)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        if fields.len() < words || fields[0] != magic {
            return Err(EventsError::malformed(
                path,
                0,
                format!("an IDX header with magic number {magic}"),
            ));
        }
        Ok(fields[1..].iter().map(|&f| f as usize).collect())
    };
    let dims = header(&image_bytes, images, 2051, 4)?;
    let (count, rows, columns) = (dims[0], dims[1], dims[2]);
    let label_count = header(&label_bytes, labels, 2049, 2)?[0];
    let pixels = &image_bytes[16..];
    let classes = &label_bytes[8..];
    if pixels.len() != count * rows * columns {
        return Err(EventsError::malformed(
            images,
            16,
            format!(
                "{count} images of {rows}×{columns} bytes; found {} bytes",
                pixels.len()
            ),
        ));
    }
    if label_count != count || classes.len() != count {
        return Err(EventsError::malformed(
            labels,
            8,
            format!("{count} labels, one per image; found {}", classes.len()),
        ));
    }
    Ok(pixels
        .chunks_exact(rows * columns)
        .zip(classes)
        .map(|(image, &label)| LabelledImage {
            image: Image {
                height: rows,
                width: columns,
                pixels: image.iter().map(|&p| f32::from(p) / 255.0).collect(),
            },
            label: u16::from(label),
        })
        .collect())
}

/// A CIFAR-10 binary batch (`data_batch_1.bin` …): records of a label byte and 32×32 red,
/// green and blue planes; turned to luminance (ITU-R BT.601).
pub fn read_cifar10_batch(path: &Path) -> Result<Vec<LabelledImage>> {
    const RECORD: usize = 1 + 3 * 1024;
    let bytes = read_bytes(path)?;
    if bytes.len() % RECORD != 0 {
        let whole = bytes.len() / RECORD * RECORD;
        return Err(EventsError::malformed(
            path,
            whole as u64,
            format!("whole {RECORD}-byte CIFAR-10 records"),
        ));
    }
    bytes
        .chunks_exact(RECORD)
        .enumerate()
        .map(|(i, record)| {
            if record[0] > 9 {
                return Err(EventsError::malformed(
                    path,
                    (i * RECORD) as u64,
                    format!("a label 0..9, found {}", record[0]),
                ));
            }
            let (red, rest) = record[1..].split_at(1024);
            let (green, blue) = rest.split_at(1024);
            let pixels = red
                .iter()
                .zip(green)
                .zip(blue)
                .map(|((&r, &g), &b)| {
                    (0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)) / 255.0
                })
                .collect();
            Ok(LabelledImage {
                image: Image {
                    height: 32,
                    width: 32,
                    pixels,
                },
                label: u16::from(record[0]),
            })
        })
        .collect()
}

/// A folder of PNG or JPEG images per class (`<root>/<class>/*.png|jpg|jpeg`, classes sorted
/// by name). Returns the class names and the images in class order (within a class: `.png`
/// files, then `.jpg`, then `.jpeg`, each sorted by name).
pub fn read_image_folders(root: &Path) -> Result<(Vec<String>, Vec<LabelledImage>)> {
    let index = scan_class_folders(
        root,
        &["png", "jpg", "jpeg"],
        crate::dataset::RecordingFormat::Aedat2,
    )?;
    let images = index
        .recordings
        .iter()
        .map(|recording| {
            Ok(LabelledImage {
                image: decode(&root.join(&recording.file))?,
                label: recording.label,
            })
        })
        .collect::<Result<_>>()?;
    Ok((index.classes, images))
}

/// One PNG or JPEG file as grayscale intensities.
pub fn decode(path: &Path) -> Result<Image> {
    let decoded = image::open(path)
        .map_err(|e| EventsError::malformed(path, 0, format!("a PNG or JPEG image: {e}")))?;
    let gray = decoded.to_luma32f();
    Ok(Image {
        height: gray.height() as usize,
        width: gray.width() as usize,
        pixels: gray.into_raw(),
    })
}

//! A company logo as it is kept: decoded under limits (so a file that claims or
//! unpacks to a huge picture is refused before it takes the memory), and stored as a
//! PNG of at most [`MAX_SIDE`] pixels a side, re-encoded from the pixels alone: nothing
//! the upload carried besides its picture (appended HTML, metadata) is kept.

use std::io::Cursor;

use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};

/// The widest and tallest picture decoded.
pub const MAX_DIMENSION: u32 = 4096;
/// The most memory one decode may take: a 4096 × 4096 picture at 4 bytes a pixel,
/// with room to spare.
pub const MAX_ALLOC: u64 = 96 * 1024 * 1024;
/// The longest side of the stored logo.
pub const MAX_SIDE: u32 = 256;
/// What the stored logo is.
pub const MIME: &str = "image/png";

/// Why an upload is not a logo. Its text is shown as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoRefusal {
    #[error("That file is not a PNG or JPEG image.")]
    NotAnImage,
    #[error("That image could not be read: it is damaged or not really a PNG or JPEG. Save it again and upload the new file.")]
    Unreadable,
    #[error("That image is too large: use one of at most 4096 × 4096 pixels.")]
    TooLarge,
}

/// Decodes an upload (PNG or JPEG, judged by content) under [`MAX_DIMENSION`] and
/// [`MAX_ALLOC`], and answers the PNG to store. CPU work: call it off the executor.
pub fn prepare(upload: &[u8]) -> Result<Vec<u8>, LogoRefusal> {
    let mut reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| LogoRefusal::NotAnImage)?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
        return Err(LogoRefusal::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| match e {
        ImageError::Limits(_) => LogoRefusal::TooLarge,
        _ => LogoRefusal::Unreadable,
    })?;
    let small = if picture.width() > MAX_SIDE || picture.height() > MAX_SIDE {
        picture.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        picture
    };
    let mut stored = Vec::new();
    DynamicImage::ImageRgba8(small.to_rgba8())
        .write_to(&mut Cursor::new(&mut stored), ImageFormat::Png)
        .map_err(|_| LogoRefusal::Unreadable)?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(picture)
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    #[test]
    fn a_picture_is_stored_as_a_small_png() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let stored = prepare(&encoded(600, 300, format)).unwrap();
            let back = image::load_from_memory_with_format(&stored, ImageFormat::Png).unwrap();
            assert_eq!((back.width(), back.height()), (256, 128));
        }
        let small = prepare(&encoded(40, 20, ImageFormat::Png)).unwrap();
        let back = image::load_from_memory(&small).unwrap();
        assert_eq!((back.width(), back.height()), (40, 20));
    }

    #[test]
    fn junk_and_huge_pictures_are_refused() {
        assert_eq!(
            prepare(b"<svg onload=alert(1)>"),
            Err(LogoRefusal::NotAnImage)
        );
        assert_eq!(prepare(b"GIF89a"), Err(LogoRefusal::NotAnImage));
        let mut junk = vec![0xFF, 0xD8, 0xFF, 0xE0];
        junk.extend(std::iter::repeat_n(0x41, 116));
        assert_eq!(prepare(&junk), Err(LogoRefusal::Unreadable));
        assert_eq!(
            prepare(&encoded(MAX_DIMENSION + 1, 2, ImageFormat::Png)),
            Err(LogoRefusal::TooLarge)
        );
    }
}

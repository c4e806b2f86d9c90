use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::*;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn upload(
    client: &Client,
    bytes: Vec<u8>,
    file_name: &str,
    with_token: bool,
) -> reqwest::Response {
    let token = client.csrf_from("/company/settings").await;
    let mut form = Form::new().part("logo", Part::bytes(bytes).file_name(file_name.to_owned()));
    if with_token {
        form = form.text("csrf_token", token);
    }
    client
        .http
        .post(client.url("/company/logo"))
        .header("Origin", &client.address)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_png_logo_replaces_the_initials() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme Widgets", "Olivia", "olivia@acme.test")
        .await;
    let r = upload(&owner, PNG.to_vec(), "logo.png", true).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = owner.get_text("/company/settings").await;
    assert!(page.contains("Logo updated."));
    assert!(page.contains("src=\"/company/logo\""));
    let logo = owner.get("/company/logo").await;
    assert_eq!(logo.status(), StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/png");
    // Stored as decoded and written again: the same one pixel, as a PNG of our own.
    let stored = logo.bytes().await.unwrap();
    let back = image::load_from_memory_with_format(&stored, image::ImageFormat::Png).unwrap();
    assert_eq!((back.width(), back.height()), (1, 1));
}

/// A picture of `width` × `height`, encoded as `format`.
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(pixels)
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// CRC-32 (IEEE), as a PNG chunk carries it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real PNG whose header claims `width` × `height` (with the header's CRC fixed, so
/// only the size is wrong).
fn claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = picture(8, 8, image::ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

async fn settings_say(client: &Client, words: &str) {
    let (_, page) = client.get_text("/company/settings").await;
    assert!(
        page.contains(words),
        "expected {words:?} on the settings page"
    );
}

#[tokio::test]
async fn logos_are_decoded_under_limits_and_stored_re_encoded() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;

    // A PNG of 20000 × 20000 pixels (packed zeros make it a few hundred KB: a
    // decompression bomb). Its header alone is refused, before any pixel is unpacked.
    upload(&owner, claiming(20_000, 20_000), "bomb.png", true).await;
    settings_say(&owner, "That image is too large").await;
    // A header claiming 2³¹ × 2³¹.
    upload(&owner, claiming(1 << 31, 1 << 31), "bomb.png", true).await;
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("That image"));
    // 120 bytes that start like a JPEG and are not one.
    let mut junk = vec![0xFF, 0xD8, 0xFF, 0xE0];
    junk.resize(120, b'A');
    upload(&owner, junk, "logo.jpg", true).await;
    settings_say(&owner, "That image could not be read").await;
    assert_eq!(
        owner.get("/company/logo").await.status(),
        StatusCode::NOT_FOUND,
        "nothing stored"
    );

    // A real PNG with HTML after its end: accepted, and served without the HTML, as a
    // PNG of at most 256 pixels a side.
    let mut polyglot = picture(1024, 512, image::ImageFormat::Png);
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let r = upload(&owner, polyglot, "logo.png", true).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    settings_say(&owner, "Logo updated.").await;
    let logo = owner.get("/company/logo").await;
    assert_eq!(logo.headers()["content-type"], "image/png");
    let stored = logo.bytes().await.unwrap().to_vec();
    assert!(!String::from_utf8_lossy(&stored).contains("<script"));
    let back = image::load_from_memory_with_format(&stored, image::ImageFormat::Png).unwrap();
    assert_eq!((back.width(), back.height()), (256, 128));

    // A JPEG is kept as a PNG too.
    upload(
        &owner,
        picture(300, 600, image::ImageFormat::Jpeg),
        "me.jpg",
        true,
    )
    .await;
    let stored = owner.get("/company/logo").await.bytes().await.unwrap();
    let back = image::load_from_memory_with_format(&stored, image::ImageFormat::Png).unwrap();
    assert_eq!((back.width(), back.height()), (128, 256));
}

#[tokio::test]
async fn logos_are_checked_by_content_and_size() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let r = upload(
        &owner,
        b"<svg onload=alert(1)></svg>".to_vec(),
        "logo.png",
        true,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("not a PNG or JPEG"));
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 10, 0);
    upload(&owner, big, "big.png", true).await;
    assert!(owner
        .get_text("/company/settings")
        .await
        .1
        .contains("larger than 1 MB"));
    assert_eq!(
        owner.get("/company/logo").await.status(),
        StatusCode::NOT_FOUND,
        "still no logo"
    );
    let r = upload(&owner, PNG.to_vec(), "logo.png", false).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token, no upload (refused by the guard, as every other form)"
    );
    assert_eq!(
        owner.get("/company/logo").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_owners_and_admins_change_company_settings() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let manager = app
        .invite_and_accept(&owner, "max@acme.test", "Max", "manager")
        .await;
    let (status, body) = manager.get_text("/company/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Only your company's owner or admin"));
    let r = manager
        .post_form(
            "/company/settings",
            "/company/settings",
            &[("name", "Max Corp")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = upload(&manager, PNG.to_vec(), "logo.png", true).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let bad = owner
        .post_form("/company/settings", "/company/settings", &[("name", "  ")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(owner.get_text("/tasks").await.1.contains("Acme"));
}

#[tokio::test]
async fn notifications_page_has_an_empty_state() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("Acme", "Olivia", "olivia@acme.test").await;
    let (status, body) = owner.get_text("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Nothing new"));
    let (_, body) = owner.get_text("/integrations").await;
    assert!(body.contains("Ask your company's owner or admin"));
}

//! Static files, compiled into the binary so it runs from any directory.

use actix_web::{web, HttpResponse};

/// Name, media type, content.
type Asset = (&'static str, &'static str, &'static [u8]);

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    (
        "pico.min.css",
        CSS,
        include_bytes!("../../static/vendor/pico/pico.min.css"),
    ),
    ("app.css", CSS, include_bytes!("../../static/app.css")),
    ("app.js", JS, include_bytes!("../../static/app.js")),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, mime, body)) => HttpResponse::Ok()
            .content_type(*mime)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(*body),
        None => crate::error::error_page(
            actix_web::http::StatusCode::NOT_FOUND,
            ("Page not found", "There is nothing here.".into()),
        ),
    }
}

//! Static files, compiled into the binary so it runs from any directory.

use actix_web::{web, HttpResponse};

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "pico.min.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../../static/vendor/pico/pico.min.css"),
    },
    Asset {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "favicon.svg",
        mime: "image/svg+xml",
        body: include_bytes!("../../static/favicon.svg"),
    },
];

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.name == file.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.mime)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(asset.body),
        None => crate::error::error_page(
            actix_web::http::StatusCode::NOT_FOUND,
            ("Page not found", "There is nothing here.".into()),
        ),
    }
}

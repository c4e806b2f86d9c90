//! The sandbox through its routes: answers that its handlers must keep.

use actix_web::{test, web, App};
use serde_json::json;
use url::Url;

use super::{configure, SandboxState};

#[actix_web::test]
async fn control_calls_say_which_tool_person_or_task_they_do_not_know() {
    let state = web::Data::new(SandboxState::new(Url::parse("http://127.0.0.1:9").unwrap()));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let no_tool = json!({"error": "no such tool"});
    let no_person = json!({"error": "no such sample person"});
    let cases = [
        (
            "trello/_control/rate-limit",
            json!({"person": "jane@acme.test", "after_calls": 1}),
            404,
            no_tool.clone(),
        ),
        (
            "pivotal/_control/rate-limit",
            json!({"person": "nobody@acme.test", "after_calls": 1}),
            400,
            no_person.clone(),
        ),
        (
            "pivotal/_control/rate-limit",
            json!({"person": "jane@acme.test", "after_calls": 1}),
            204,
            json!(null),
        ),
        (
            "trello/_control/expire-tokens",
            json!({"person": "jane@acme.test"}),
            404,
            no_tool.clone(),
        ),
        (
            "jira/_control/expire-tokens",
            json!({"person": "nobody@acme.test"}),
            400,
            no_person.clone(),
        ),
        (
            "jira/_control/expire-tokens",
            json!({"person": "jane@acme.test"}),
            204,
            json!(null),
        ),
        (
            "trello/_control/reassign",
            json!({"task_id": "1"}),
            404,
            no_tool,
        ),
        (
            "pivotal/_control/reassign",
            json!({"task_id": "nope", "assignee": "nobody@acme.test"}),
            400,
            no_person,
        ),
        (
            "pivotal/_control/reassign",
            json!({"task_id": "nope", "closed": true}),
            404,
            json!({"error": "no such task"}),
        ),
    ];
    for (path, body, status, answer) in cases {
        let request = test::TestRequest::post()
            .uri(&format!("/sandbox/{path}"))
            .set_json(&body)
            .to_request();
        let response = test::call_service(&app, request).await;
        let got = response.status().as_u16();
        let bytes = test::read_body(response).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        assert_eq!((got, json), (status, answer), "{path} {body}");
    }
}

//! One schema for both backends; the migrations under `migrations/sqlite` and
//! `migrations/postgres` are kept in step with it.

diesel::table! {
    companies (id) {
        id -> BigInt,
        name -> Text,
        logo -> Nullable<Binary>,
        logo_mime -> Nullable<Text>,
        created_at -> BigInt,
        time_zone -> Text,
        week_start -> Text,
    }
}

diesel::table! {
    logins (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        email_verified_at -> Nullable<BigInt>,
        last_user_id -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        company_id -> BigInt,
        login_id -> BigInt,
        name -> Text,
        role -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        time_zone -> Nullable<Text>,
        checklist_dismissed_at -> Nullable<BigInt>,
        email_notices -> Bool,
    }
}

diesel::table! {
    task_stamps (user_id) {
        user_id -> BigInt,
        stamp -> BigInt,
    }
}

diesel::table! {
    time_stamps (user_id) {
        user_id -> BigInt,
        stamp -> BigInt,
    }
}

diesel::table! {
    invites (id) {
        id -> BigInt,
        company_id -> BigInt,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        accepted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Nullable<BigInt>,
        state -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        message -> Text,
        link -> Nullable<Text>,
        created_at -> BigInt,
        read_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        company_id -> Nullable<BigInt>,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        detail -> Text,
        ip -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        email -> Text,
        ip -> Text,
        created_at -> BigInt,
        device_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    known_devices (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        last_used_at -> BigInt,
    }
}

diesel::table! {
    company_integrations (id) {
        id -> BigInt,
        company_id -> BigInt,
        provider -> Text,
        enabled -> Bool,
        changed_by -> Nullable<BigInt>,
        changed_at -> BigInt,
        include_pull_requests -> Bool,
    }
}

diesel::table! {
    connections (id) {
        id -> BigInt,
        company_id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        status -> Text,
        external_user_id -> Text,
        external_account_id -> Text,
        account_name -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        api_base -> Nullable<Text>,
        credentials -> Nullable<Binary>,
        last_error_code -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        next_sync_at -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<BigInt>,
        sync_cursor -> Nullable<Text>,
        pass_id -> Nullable<BigInt>,
        last_sync_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        lease_generation -> BigInt,
        sync_requested -> Bool,
        sync_now_at -> Nullable<BigInt>,
        last_added -> BigInt,
        last_closed -> BigInt,
        lease_saves -> BigInt,
    }
}

diesel::table! {
    sync_workers (owner) {
        owner -> Text,
        seen_at -> BigInt,
    }
}

diesel::table! {
    key_check (id) {
        id -> BigInt,
        sealed -> Binary,
        created_at -> BigInt,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        connection_id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        external_id -> Text,
        title -> Text,
        status -> Text,
        project -> Text,
        due_on -> Nullable<Text>,
        url -> Nullable<Text>,
        content_hash -> Text,
        archived -> Bool,
        seen_pass -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> BigInt,
        connection_id -> BigInt,
        trigger -> Text,
        status -> Text,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        fetched -> BigInt,
        added -> BigInt,
        updated -> BigInt,
        archived -> BigInt,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
    }
}

diesel::table! {
    sync_pages (connection_id, page_key) {
        connection_id -> BigInt,
        page_key -> Text,
        etag -> Text,
        next_cursor -> Nullable<Text>,
        external_ids -> Text,
    }
}

diesel::table! {
    time_entries (id) {
        id -> BigInt,
        company_id -> BigInt,
        user_id -> BigInt,
        task_id -> Nullable<BigInt>,
        provider -> Nullable<Text>,
        project -> Nullable<Text>,
        task_title -> Nullable<Text>,
        task_url -> Nullable<Text>,
        note -> Text,
        started_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        client_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        company_id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        company_id -> BigInt,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        link -> Nullable<Text>,
        readers -> Text,
        status -> Text,
        attempts -> Integer,
        next_try_at -> BigInt,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        sent_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_reset_requests (id) {
        id -> BigInt,
        email -> Text,
        ip -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    email_verifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    email_verification_requests (id) {
        id -> BigInt,
        email -> Text,
        ip -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(users -> companies (company_id));
diesel::joinable!(users -> logins (login_id));
diesel::joinable!(email_verifications -> users (user_id));
diesel::joinable!(mail_outbox -> companies (company_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(task_stamps -> users (user_id));
diesel::joinable!(time_stamps -> users (user_id));
diesel::joinable!(connections -> users (user_id));
diesel::joinable!(tasks -> connections (connection_id));
diesel::joinable!(sync_runs -> connections (connection_id));
diesel::joinable!(sync_pages -> connections (connection_id));
diesel::joinable!(company_integrations -> companies (company_id));
diesel::joinable!(invites -> companies (company_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(audit_log -> companies (company_id));
diesel::joinable!(time_entries -> users (user_id));
diesel::joinable!(time_entries -> tasks (task_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(known_devices -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    logins,
    users,
    invites,
    sessions,
    notifications,
    audit_log,
    sign_in_failures,
    company_integrations,
    connections,
    sync_workers,
    key_check,
    tasks,
    task_stamps,
    time_stamps,
    sync_runs,
    sync_pages,
    time_entries,
    api_tokens,
    mail_outbox,
    password_resets,
    password_reset_requests,
    email_verifications,
    email_verification_requests,
    known_devices,
);

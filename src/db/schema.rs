// One schema for both backends: only types SQLite and PostgreSQL share.

diesel::table! {
    companies (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        require_invitation -> Bool,
        allowed_domains -> Text,
        created_at -> Timestamp,
        sso_enforced -> Bool,
        require_two_factor -> Bool,
        max_pat_lifetime_days -> Nullable<Integer>,
        members_may_create_pats -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        company_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        status -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
        timezone -> Text,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_verifications (id) {
        id -> Text,
        user_id -> Text,
        email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    company_domains (company_id, domain) {
        company_id -> Text,
        domain -> Text,
        dns_token -> Text,
        created_at -> Timestamp,
        verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        company_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    meeting_types (id) {
        id -> Text,
        owner_id -> Text,
        title -> Text,
        slug -> Text,
        duration_minutes -> Integer,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        meeting_type_id -> Text,
        host_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        attendee_name -> Text,
        attendee_email -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        method -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    two_factor_authenticators (user_id) {
        user_id -> Text,
        secret_encrypted -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    two_factor_recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    personal_access_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        replaces -> Nullable<Text>,
        replaced_by -> Nullable<Text>,
        superseded_at -> Nullable<Timestamp>,
        rotation_alerted_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    platform_api_keys (id) {
        id -> Text,
        company_id -> Text,
        name -> Text,
        secret_hash -> Text,
        prefix -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
        deactivated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        replaces -> Nullable<Text>,
        replaced_by -> Nullable<Text>,
        superseded_at -> Nullable<Timestamp>,
        rotation_alerted_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        company_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        credential_id -> Nullable<Text>,
        kind -> Text,
        target -> Nullable<Text>,
        detail -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identities (id) {
        id -> Text,
        user_id -> Text,
        provider -> Text,
        issuer -> Text,
        subject -> Text,
        email -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    saml_configs (company_id) {
        company_id -> Text,
        idp_entity_id -> Text,
        idp_sso_url -> Text,
        metadata_xml -> Text,
        allow_sha1 -> Bool,
        allow_idp_initiated -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sso_requests (id) {
        id -> Text,
        kind -> Text,
        target -> Text,
        purpose -> Text,
        browser_hash -> Text,
        nonce -> Nullable<Text>,
        link_user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        invitation_hash -> Nullable<Text>,
    }
}

diesel::table! {
    saml_seen_assertions (company_id, assertion_id) {
        company_id -> Text,
        assertion_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    credential_usage_daily (credential_id, day, outcome) {
        credential_id -> Text,
        day -> Date,
        outcome -> Text,
        requests -> BigInt,
    }
}

diesel::table! {
    credential_ips (credential_id, ip) {
        credential_id -> Text,
        ip -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
    }
}

diesel::table! {
    credential_reminders (credential_id, threshold_days) {
        credential_id -> Text,
        threshold_days -> Integer,
        credential_kind -> Text,
        claimed_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        skipped -> Bool,
    }
}

diesel::table! {
    scim_configs (company_id) {
        company_id -> Text,
        enabled -> Bool,
        secret_id -> Nullable<Text>,
        secret_hash -> Nullable<Text>,
        secret_prefix -> Nullable<Text>,
        secret_created_at -> Nullable<Timestamp>,
        secret_last_used_at -> Nullable<Timestamp>,
        successor_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_users (user_id) {
        user_id -> Text,
        company_id -> Text,
        external_id -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        company_id -> Text,
        endpoint -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret_encrypted -> Text,
        secret_prefix -> Text,
        previous_secret_encrypted -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        company_id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        endpoint_id -> Text,
        company_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        latency_ms -> Integer,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(users -> companies (company_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(invitations -> companies (company_id));
diesel::joinable!(meeting_types -> users (owner_id));
diesel::joinable!(appointments -> meeting_types (meeting_type_id));
diesel::joinable!(personal_access_tokens -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(platform_api_keys -> companies (company_id));
diesel::joinable!(company_domains -> companies (company_id));
diesel::joinable!(email_verifications -> users (user_id));
diesel::joinable!(scim_configs -> companies (company_id));
diesel::joinable!(scim_users -> users (user_id));
diesel::joinable!(webhook_endpoints -> companies (company_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    users,
    invitations,
    meeting_types,
    appointments,
    sessions,
    password_resets,
    personal_access_tokens,
    platform_api_keys,
    audit_events,
    identities,
    saml_configs,
    sso_requests,
    saml_seen_assertions,
    email_verifications,
    company_domains,
    two_factor_authenticators,
    two_factor_recovery_codes,
    credential_usage_daily,
    credential_ips,
    credential_reminders,
    scim_configs,
    scim_users,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    webhook_attempts,
);

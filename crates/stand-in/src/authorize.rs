//! `/oauth/authorize`: request checks, the consent page and the user's decision.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use contract::OAuthError;

use crate::demo_data::demo_users;
use crate::html::{escape, page};
use crate::store::{CodeGrant, MAX_PENDING, PendingConsent};
use crate::{StandIn, opaque_value};

/// Query parameters by name; `Err(name)` when a parameter is repeated (RFC 6749 §3.1).
pub(crate) fn unique_params(raw: &str) -> Result<HashMap<String, String>, String> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if params.insert(name.to_string(), value.into_owned()).is_some() {
            return Err(name.into_owned());
        }
    }
    Ok(params)
}

/// An error page shown to the user instead of a redirect.
fn error_page(title: &str, detail: &str) -> Response {
    let body = format!("<h1>{}</h1><p>{}</p>", escape(title), escape(detail));
    (StatusCode::BAD_REQUEST, Html(page(title, &body))).into_response()
}

/// `redirect_uri` with `params` appended to its query.
fn redirect_to(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut response = Redirect::to(&format!("{redirect_uri}{separator}{}", query.finish())).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// An RFC 6749 §4.1.2.1 error sent back to the client's redirect URI, with the state if any
/// and the issuer (RFC 9207 §2: every authorization response, errors included).
fn redirect_error(
    stand_in: &StandIn,
    redirect_uri: &str,
    error: OAuthError,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut params = vec![("error", error.as_str()), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.extend(stand_in.settings.issuer.as_deref().map(|iss| ("iss", iss)));
    redirect_to(redirect_uri, &params)
}

/// `GET /oauth/authorize`: checks the request, then shows consent (or approves at once when
/// auto-approve is on).
///
/// RFC 6749 §4.1.2.1: a bad `client_id` or `redirect_uri` gets an error page, never a
/// redirect, so the endpoint cannot be used as an open redirector. Every other error goes back
/// to the registered redirect URI with the state.
pub(crate) async fn authorize_page(State(stand_in): State<StandIn>, RawQuery(raw): RawQuery) -> Response {
    let params = match unique_params(raw.as_deref().unwrap_or("")) {
        Ok(params) => params,
        Err(name) => {
            return error_page(
                "Invalid request",
                &format!("The parameter {name} appears more than once."),
            );
        }
    };
    let get = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let registration = &stand_in.registration;
    if get("client_id") != Some(registration.client_id.as_str()) {
        return error_page(
            "Unknown client",
            "The client_id is missing or not registered with this server.",
        );
    }
    let Some(redirect_uri) = get("redirect_uri").filter(|uri| registration.has_redirect_uri(uri)) else {
        return error_page(
            "Redirect URI not registered",
            "The redirect_uri is missing or does not exactly match a registered redirect URI.",
        );
    };
    let state = get("state");
    if get("response_type") != Some("code") {
        return redirect_error(
            &stand_in,
            redirect_uri,
            OAuthError::UnsupportedResponseType,
            "Only response_type=code is supported.",
            state,
        );
    }
    let Some(state) = state else {
        return redirect_error(
            &stand_in,
            redirect_uri,
            OAuthError::InvalidRequest,
            "The state parameter is required.",
            None,
        );
    };
    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE is required, and only S256.
    if get("code_challenge_method") != Some(pkce::CodeChallenge::METHOD) {
        return redirect_error(
            &stand_in,
            redirect_uri,
            OAuthError::InvalidRequest,
            "PKCE with code_challenge_method=S256 is required.",
            Some(state),
        );
    }
    let Some(challenge) = get("code_challenge").filter(|c| pkce::CodeChallenge::parse(c).is_some()) else {
        return redirect_error(
            &stand_in,
            redirect_uri,
            OAuthError::InvalidRequest,
            "code_challenge must be a 43-character S256 challenge.",
            Some(state),
        );
    };
    let scope: Vec<String> = get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scope.is_empty() || scope.iter().any(|s| !registration.scopes.contains(s)) {
        return redirect_error(
            &stand_in,
            redirect_uri,
            OAuthError::InvalidScope,
            "The scope is empty or names a scope this client may not ask for.",
            Some(state),
        );
    }

    let now = stand_in.clock.now();
    let pending = PendingConsent {
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state.to_owned(),
        code_challenge: challenge.to_owned(),
        created_at: now,
    };
    if stand_in.settings.auto_approve {
        let user = demo_users().remove(0).0;
        return approve(&stand_in, pending, user);
    }
    let request_id = opaque_value();
    let consent = consent_page(&stand_in, &request_id, &pending);
    let mut inner = stand_in.lock();
    inner.sweep(now, stand_in.settings.code_ttl);
    if inner.pending.len() >= MAX_PENDING {
        return too_many_requests();
    }
    inner.pending.insert(request_id, pending);
    consent
}

fn consent_page(stand_in: &StandIn, request_id: &str, pending: &PendingConsent) -> Response {
    let users: String = demo_users()
        .iter()
        .enumerate()
        .map(|(i, (id, name, company))| {
            format!(
                "<label><input type=\"radio\" name=\"user_id\" value=\"{}\"{}> {} <small>({})</small></label>",
                escape(id),
                if i == 0 { " checked" } else { "" },
                escape(name),
                escape(company)
            )
        })
        .collect();
    let scopes: String = pending
        .scope
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let body = format!(
        "<h1>Authorise {client}</h1>\
         <p><strong>{client}</strong> asks for access to your Pleo data:</p><ul id=\"scopes\">{scopes}</ul>\
         <form method=\"post\" action=\"authorize/decision\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
         <fieldset><legend>Sign in as a demo user</legend>{users}</fieldset><p>\
         <button class=\"approve\" id=\"approve\" name=\"decision\" value=\"approve\">Approve</button>\
         <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></p></form>\
         <p><small>You will be sent back to <code>{redirect}</code>.</small></p>",
        client = escape(&stand_in.registration.client_name),
        request_id = escape(request_id),
        redirect = escape(&pending.redirect_uri),
    );
    let mut response = Html(page("Authorise access", &body)).into_response();
    // The consent page must not be framed by another site (clickjacking, RFC 6749 §10.13).
    response
        .headers_mut()
        .insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    response
}

/// The consent form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct Decision {
    request_id: String,
    decision: String,
    #[serde(default)]
    user_id: String,
}

/// `POST /oauth/authorize/decision`: Approve issues a code, Deny sends `access_denied`.
/// The unguessable request id is the form's CSRF defence: only the consent page knows it.
pub(crate) async fn decision(State(stand_in): State<StandIn>, Form(form): Form<Decision>) -> Response {
    let Some(pending) = stand_in.lock().pending.remove(&form.request_id) else {
        return error_page(
            "Consent expired",
            "This consent request was already answered or has expired. Start again from the app.",
        );
    };
    if form.decision != "approve" {
        let mut params = vec![
            ("error", OAuthError::AccessDenied.as_str()),
            ("error_description", "The user denied the request."),
            ("state", pending.state.as_str()),
        ];
        params.extend(stand_in.settings.issuer.as_deref().map(|iss| ("iss", iss)));
        return redirect_to(&pending.redirect_uri, &params);
    }
    let user = demo_users()
        .into_iter()
        .find(|(id, _, _)| *id == form.user_id)
        .map(|(id, _, _)| id);
    match user {
        Some(user) => approve(&stand_in, pending, user),
        None => error_page("Unknown user", "Pick one of the demo users."),
    }
}

/// The error page when the stand-in holds as many consent requests or codes as it may.
fn too_many_requests() -> Response {
    let mut page = error_page(
        "Too many sign-ins at once",
        "The stand-in holds as many open sign-ins as it may. Try again in a minute.",
    );
    *page.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    page
}

fn approve(stand_in: &StandIn, pending: PendingConsent, user_id: String) -> Response {
    let code = opaque_value();
    let now = stand_in.clock.now();
    let mut inner = stand_in.lock();
    inner.sweep(now, stand_in.settings.code_ttl);
    if inner.codes.len() >= MAX_PENDING {
        return too_many_requests();
    }
    inner.codes.insert(
        code.clone(),
        CodeGrant {
            redirect_uri: pending.redirect_uri.clone(),
            scope: pending.scope,
            code_challenge: pending.code_challenge,
            user_id,
            expires_at: now + stand_in.settings.code_ttl,
            redeemed_grant: None,
        },
    );
    // RFC 9207 §2: the issuer identifies who answered, against mix-up attacks.
    let mut params = vec![("code", code.as_str()), ("state", pending.state.as_str())];
    params.extend(stand_in.settings.issuer.as_deref().map(|iss| ("iss", iss)));
    redirect_to(&pending.redirect_uri, &params)
}

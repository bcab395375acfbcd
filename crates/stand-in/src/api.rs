//! The API: Bearer checks (RFC 6750) and Pleo's response shapes.

use axum::Json;
use axum::extract::{FromRequestParts, MatchedPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use contract::OAuthError;

use crate::StandIn;
use axum::extract::Path;

use crate::demo_data::{COMPANIES, Company, EMPLOYEE_COUNT, EXPORT_JOB_COUNT, employee, export_job};

/// RFC 6750 §3: 401 `invalid_token` or 403 `insufficient_scope`, with `WWW-Authenticate`.
fn bearer_error(status: StatusCode, error: OAuthError, description: &str) -> Response {
    let challenge = format!("Bearer realm=\"stand-in\", error=\"{error}\", error_description=\"{description}\"");
    let mut response = api_error(status, error.as_str(), description);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Pleo's pagination parameters: `limit`, and one of `after` (the page after the item that
/// cursor names), `before` (the page before it) or `offset`.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
    after: Option<String>,
    before: Option<String>,
}

/// The cursor of item `index`: opaque to a client (base64url of a position).
fn cursor(index: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("position:{index}"))
}

/// The item a cursor names, if it is one of ours.
fn cursor_index(cursor: &str) -> Option<usize> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("position:")?
        .parse()
        .ok()
}

/// The caller of an API route: a valid Bearer token (RFC 6750) whose grant holds the scope
/// the catalog requires for the route, within its rate limit. As an extractor, a handler that
/// takes one runs only for such a caller; anything else is answered with its [`ApiRefusal`].
pub(crate) struct Caller {
    scope: Vec<String>,
    user_id: String,
}

/// Why the API refuses a call before its handler runs.
#[derive(Debug)]
pub(crate) enum ApiRefusal {
    /// RFC 6750 §3.1 `invalid_token` (401), with why.
    InvalidToken(&'static str),
    /// RFC 6750 §3.1 `insufficient_scope` (403): the scope the route needs.
    InsufficientScope(&'static str),
    /// The `rate-limit` knob: 429 with `Retry-After`.
    RateLimited,
}

impl IntoResponse for ApiRefusal {
    fn into_response(self) -> Response {
        match self {
            Self::InvalidToken(why) => bearer_error(StatusCode::UNAUTHORIZED, OAuthError::InvalidToken, why),
            Self::InsufficientScope(scope) => bearer_error(
                StatusCode::FORBIDDEN,
                OAuthError::InsufficientScope,
                &format!("This call needs the {scope} scope."),
            ),
            Self::RateLimited => {
                let wait = crate::store::RATE_LIMIT_RETRY_AFTER_SECS;
                let mut response = api_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    &format!("Too many requests: try again in {wait} s."),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
                response
            }
        }
    }
}

/// The scope the API catalog requires for the route `matched` (the router's template, under
/// whatever prefix the stand-in is mounted at), if it requires one.
fn catalog_scope(matched: &str) -> Option<&'static str> {
    contract::CATALOG
        .iter()
        .find(|endpoint| {
            matched
                .strip_suffix(endpoint.path)
                .is_some_and(|prefix| prefix.ends_with('/'))
        })
        .and_then(|endpoint| endpoint.scope)
}

impl FromRequestParts<StandIn> for Caller {
    type Rejection = ApiRefusal;

    async fn from_request_parts(parts: &mut Parts, stand_in: &StandIn) -> Result<Self, Self::Rejection> {
        let scope = parts
            .extensions
            .get::<MatchedPath>()
            .and_then(|matched| catalog_scope(matched.as_str()));
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiRefusal::InvalidToken("A Bearer access token is required."))?;
        let now = stand_in.clock.now();
        let mut guard = stand_in.lock();
        // One `&mut` to the store: its fields borrow apart (the grant read, its rate limit counted).
        let inner = &mut *guard;
        let access = inner
            .access_tokens
            .get(token)
            .filter(|a| a.expires_at > now)
            .ok_or(ApiRefusal::InvalidToken(
                "The access token is unknown, expired or revoked.",
            ))?;
        let grant = inner
            .grants
            .get(&access.grant)
            .filter(|g| !g.revoked)
            .ok_or(ApiRefusal::InvalidToken("The access token was revoked."))?;
        if let Some(left) = inner.rate_limited.get_mut(&access.grant).filter(|left| **left > 0) {
            *left -= 1;
            return Err(ApiRefusal::RateLimited);
        }
        if let Some(scope) = scope.filter(|needed| !grant.scope.iter().any(|s| s == needed)) {
            return Err(ApiRefusal::InsufficientScope(scope));
        }
        Ok(Self {
            scope: grant.scope.clone(),
            user_id: grant.user_id.clone(),
        })
    }
}

/// An answer in the API's error shape: `{"type", "message"}` with `status`.
fn api_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, Json(json!({ "type": kind, "message": message }))).into_response()
}

/// 400 in the API's error shape, for a query the API cannot use.
fn bad_request(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// `GET /v2/employees` (scope `users:read`), in Pleo's data + pagination shape.
pub(crate) async fn employees(_caller: Caller, Query(page): Query<Page>) -> Response {
    paginated(&page, EMPLOYEE_COUNT, employee)
}

/// 404 in the API's error shape.
fn not_found(what: &str) -> Response {
    api_error(StatusCode::NOT_FOUND, "not_found", &format!("No {what} with that id."))
}

/// `GET /v2/employees/{id}` (scope `users:read`) -> `{"data": {...}}`.
pub(crate) async fn employee_by_id(_caller: Caller, Path(id): Path<String>) -> Response {
    match (0..EMPLOYEE_COUNT).map(employee).find(|e| e["id"] == id.as_str()) {
        Some(found) => Json(json!({ "data": found })).into_response(),
        None => not_found("employee"),
    }
}

/// `GET /v1/companies/{id}` -> `{"data": {...}}`.
pub(crate) async fn company_by_id(_caller: Caller, Path(id): Path<String>) -> Response {
    match COMPANIES.iter().find(|c| c.id == id) {
        Some(found) => Json(json!({ "data": company(found) })).into_response(),
        None => not_found("company"),
    }
}

/// `GET /v3/export-jobs` (scope `export-jobs:read`): a job in every documented status.
pub(crate) async fn export_jobs(_caller: Caller, Query(page): Query<Page>) -> Response {
    paginated(&page, EXPORT_JOB_COUNT, export_job)
}

/// `GET /v1/installations/me`: this client's installation.
pub(crate) async fn installation(State(stand_in): State<StandIn>, _caller: Caller) -> Response {
    Json(json!({
        "id": "9d3c2b1a-0f1e-4d2c-8b7a-6e5f4d3c2b1a",
        "applicationId": stand_in.registration.client_id,
        "resource": format!("urn:pleo:company:{}", COMPANIES[0].id),
        "status": "ACTIVATED",
        "createdAt": "2026-09-01T08:00:00Z",
        "updatedAt": "2026-09-01T08:00:00Z",
    }))
    .into_response()
}

/// `DELETE /v1/installations/me`: deletes the installation and revokes every access and
/// refresh token of the client.
pub(crate) async fn uninstall(State(stand_in): State<StandIn>, _caller: Caller) -> Response {
    stand_in.revoke_all();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /v1/companies`: the demo companies (any valid token).
pub(crate) async fn companies(_caller: Caller, Query(page): Query<Page>) -> Response {
    paginated(&page, COMPANIES.len(), |i| company(&COMPANIES[i]))
}

/// `GET /v1/introspect`: who the token belongs to.
pub(crate) async fn introspect(State(stand_in): State<StandIn>, caller: Caller) -> Response {
    Json(json!({
        "data": {
            "authMethod": "OAUTH2",
            "clientId": stand_in.registration.client_id,
            "scope": caller.scope.join(" "),
            "applicationName": stand_in.registration.client_name,
            "subjectURN": format!("urn:pleo:user:{}", caller.user_id),
        }
    }))
    .into_response()
}

fn company(c: &Company) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "organizationId": null,
        "registrationNumber": c.registration_number,
        "address": {
            "addressLine1": "Demo Street 1", "addressLine2": null, "country": c.country,
            "locality": c.locality, "postalCode": "1000", "region": null,
        }
    })
}

/// `total` items, `item(i)` each, in Pleo's data + pagination shape: a page of `limit` (10 by
/// default, at most 100) after the `after` cursor, before the `before` cursor, or from `offset`;
/// `startCursor` and `endCursor` name the page's first and last items. 400 for a cursor that is
/// not one of ours, or for `after` and `before` together.
fn paginated(page: &Page, total: usize, item: impl Fn(usize) -> Value) -> Response {
    let limit = page.limit.unwrap_or(10).clamp(1, 100);
    let parse = |c: &Option<String>| c.as_deref().map(|c| cursor_index(c).ok_or(()));
    let (start, end) = match (parse(&page.after), parse(&page.before)) {
        (Some(Err(())), _) | (_, Some(Err(()))) => return bad_request("The cursor is not one this API issued."),
        (Some(Ok(_)), Some(Ok(_))) => return bad_request("Give after or before, not both."),
        (Some(Ok(after)), None) => {
            let start = after.saturating_add(1).min(total);
            (start, start.saturating_add(limit).min(total))
        }
        (None, Some(Ok(before))) => {
            let end = before.min(total);
            (end.saturating_sub(limit), end)
        }
        (None, None) => {
            let start = page.offset.unwrap_or(0).min(total);
            (start, start.saturating_add(limit).min(total))
        }
    };
    let data: Vec<Value> = (start..end).map(item).collect();
    let edge = |i: Option<usize>| i.map_or(Value::Null, |i| Value::from(cursor(i)));
    Json(json!({
        "data": data,
        "pagination": {
            "currentRequestPagination": {
                "parameters": {},
                "after": page.after,
                "before": page.before,
                "limit": limit,
                "offset": start,
                "sortingKeys": ["id"],
                "sortingOrder": ["ASC"],
            },
            "hasNextPage": end < total,
            "hasPreviousPage": start > 0,
            "startCursor": edge((start < end).then_some(start)),
            "endCursor": edge((start < end).then(|| end - 1)),
            "total": total,
        }
    }))
    .into_response()
}

/// Waits [`crate::Settings::api_latency_ms`] before answering, as a remote API would.
pub(crate) async fn latency(
    axum::extract::State(stand_in): axum::extract::State<StandIn>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    tokio::time::sleep(std::time::Duration::from_millis(stand_in.settings.api_latency_ms)).await;
    next.run(request).await
}

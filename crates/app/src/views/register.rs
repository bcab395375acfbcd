//! Step 1: register the client with Pleo; export the same settings for Postman.

use contract::catalog::{POSTMAN_DESKTOP_REDIRECT, POSTMAN_WEB_REDIRECT, postman_file_name};
use contract::exports::PostmanExport;
use contract::routes::Route;
use contract::wire::PublicConfig;
use leptos::prelude::*;

use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::{CopyButton, Field};

/// Step 1 of Pleo's guide.
#[component]
pub fn StepRegister(
    /// The companion's public configuration.
    config: PublicConfig,
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let guide = StepGuide {
        number: 1,
        title: "Register the client",
        purpose: "Tell Pleo who your application is and where it may send users back.",
        input: "The Developer Partner Registration form: name, redirect URIs, scopes, PKCE support.",
        output: "A client ID (a UUID) and a client secret, to be kept on a server only.",
        why: "Pleo sends authorization codes only to registered redirect URIs, matched exactly; PKCE must be marked supported.",
    };
    let scopes = config.scopes.join(" ");
    let rows: Vec<(&'static str, String)> = vec![
        ("Redirect URI (this walkthrough)", config.redirect_uri.clone()),
        ("Redirect URI (Postman web)", POSTMAN_WEB_REDIRECT.to_owned()),
        ("Redirect URI (Postman desktop)", POSTMAN_DESKTOP_REDIRECT.to_owned()),
        ("Scopes", scopes),
        ("PKCE Support", "Supported".to_owned()),
    ];
    let env = config.environment;
    view! {
        <StepCard guide=guide compact=compact>
            <table class="params registration">
                <caption>"Values for the registration form"</caption>
                <tbody>
                    {rows.into_iter().map(|(name, value)| view! {
                        <tr>
                            <th scope="row">{name}</th>
                            <td><code>{value.clone()}</code></td>
                            <td><CopyButton text=value label=name.to_owned()/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"What the companion is configured with"</h3>
            <dl>
                <Field label="Environment" id="environment" value=config.environment.as_str().to_owned()/>
                <Field label="Client ID" id="client-id" value=config.client_id.clone()/>
                <Field label="Authorize URL" id="authorize-url" value=config.authorize_url.clone()/>
                <Field label="Token URL (the companion's only)" id="token-url" value=config.token_url.clone()/>
                <Field label="Scopes" id="scopes" value=config.scopes.join(" ")/>
                <Field label="Redirect URI" id="redirect-uri" value=config.redirect_uri.clone()/>
                <Field label="Client authentication" id="auth-method" value=config.token_endpoint_auth_method.clone()/>
            </dl>
            <p class="muted">"The client secret stays on the companion; this page never receives it."</p>
            <h3>"Export for Postman"</h3>
            // The companion builds both files from its public configuration.
            <p>
                <a class="button" id="postman-collection" download=postman_file_name(env, PostmanExport::Collection) href=Route::Postman.path(&[PostmanExport::Collection.as_str()])>"Download the collection"</a>
                " "
                <a class="button" id="postman-environment" download=postman_file_name(env, PostmanExport::Environment) href=Route::Postman.path(&[PostmanExport::Environment.as_str()])>"Download the environment"</a>
            </p>
            <p class="muted">"Authorization Code (With PKCE), SHA-256, client credentials as a Basic Auth header. Fill in CLIENT_SECRET in Postman, never in a file you share."</p>
        </StepCard>
    }
}

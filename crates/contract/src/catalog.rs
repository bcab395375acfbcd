//! The API catalog: Pleo's read endpoints (docs/pleo.md) that the walkthrough calls. The
//! companion's proxy forwards exactly these (with GET; writes only as configured), the stand-in
//! serves them, the app's explorer lists them, and the Postman export names them.

use crate::prelude::*;

/// One read endpoint of Pleo's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiEndpoint {
    /// The path below the API base, without a leading slash; `{id}` stands for one identifier
    /// segment: `v2/employees/{id}`.
    pub path: &'static str,
    /// The scope Pleo requires, if any.
    pub scope: Option<&'static str>,
    /// What it returns, for the explorer.
    pub about: &'static str,
    /// Its name as a request, for the Postman collection.
    pub title: &'static str,
}

impl ApiEndpoint {
    /// The path as a router names it: with its leading slash (`/v2/employees/{id}`).
    pub fn route(&self) -> String {
        format!("/{}", self.path)
    }

    /// Whether the path has an identifier segment to fill in.
    pub fn takes_id(&self) -> bool {
        self.path.contains("{id}")
    }

    /// The path with `id` in place of `{id}`.
    pub fn with_id(&self, id: &str) -> String {
        self.path.replace("{id}", id)
    }
}

/// The method every catalog entry is called with: they are all reads.
pub const METHOD: &str = "GET";

/// List employees.
pub const EMPLOYEES: ApiEndpoint = ApiEndpoint {
    path: "v2/employees",
    scope: Some("users:read"),
    about: "Employees, paginated (the first call of Pleo's Postman guide)",
    title: "List employees",
};
/// Get an employee.
pub const EMPLOYEE: ApiEndpoint = ApiEndpoint {
    path: "v2/employees/{id}",
    scope: Some("users:read"),
    about: "One employee",
    title: "Get an employee",
};
/// List companies.
pub const COMPANIES: ApiEndpoint = ApiEndpoint {
    path: "v1/companies",
    scope: None,
    about: "Companies the installation can see",
    title: "List companies",
};
/// Get a company.
pub const COMPANY: ApiEndpoint = ApiEndpoint {
    path: "v1/companies/{id}",
    scope: None,
    about: "One company",
    title: "Get a company",
};
/// Introspect the token.
pub const INTROSPECT: ApiEndpoint = ApiEndpoint {
    path: "v1/introspect",
    scope: None,
    about: "Who the token belongs to",
    title: "Introspect the token",
};
/// List export jobs.
pub const EXPORT_JOBS: ApiEndpoint = ApiEndpoint {
    path: "v3/export-jobs",
    scope: Some("export-jobs:read"),
    about: "Export jobs in every status",
    title: "List export jobs",
};
/// Get the installation.
pub const INSTALLATION: ApiEndpoint = ApiEndpoint {
    path: "v1/installations/me",
    scope: None,
    about: "This client's installation",
    title: "Get the installation",
};

/// Every endpoint the walkthrough calls, in the order the explorer shows them.
pub const CATALOG: &[ApiEndpoint] = &[
    EMPLOYEES,
    EMPLOYEE,
    COMPANIES,
    COMPANY,
    INTROSPECT,
    EXPORT_JOBS,
    INSTALLATION,
];

/// Postman's redirect URI for its web app (register it with Pleo to use the Postman export).
pub const POSTMAN_WEB_REDIRECT: &str = "https://oauth.pstmn.io/v1/browser-callback";
/// Postman's redirect URI for its desktop app.
pub const POSTMAN_DESKTOP_REDIRECT: &str = "https://oauth.pstmn.io/v1/callback";

/// The file name of a Postman export for an environment, as the companion serves it and the app
/// offers it.
pub fn postman_file_name(environment: crate::Environment, kind: crate::exports::PostmanExport) -> String {
    format!("pleo-{environment}.postman_{}.json", kind.as_str())
}

/// The file name of the session's HTTP Archive for an environment, as the companion serves it
/// and the app offers it.
pub fn har_file_name(environment: crate::Environment) -> String {
    format!("pleo-walkthrough-{environment}.har")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_plain_and_relative() {
        for (i, endpoint) in CATALOG.iter().enumerate() {
            assert!(
                !endpoint.path.starts_with('/') && !endpoint.path.ends_with('/'),
                "{}",
                endpoint.path
            );
            assert!(
                CATALOG[..i].iter().all(|other| other.path != endpoint.path),
                "{} twice",
                endpoint.path
            );
            assert_eq!(endpoint.takes_id(), endpoint.with_id("x") != endpoint.path);
        }
        assert_eq!(
            postman_file_name(crate::Environment::Staging, crate::exports::PostmanExport::Collection),
            "pleo-staging.postman_collection.json"
        );
    }
}

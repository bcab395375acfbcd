//! Deterministic, realistic demo data: companies and employees, the same on every run.

use serde_json::{Value, json};

/// A demo company.
pub(crate) struct Company {
    pub id: &'static str,
    pub name: &'static str,
    pub registration_number: &'static str,
    pub locality: &'static str,
    pub country: &'static str,
}

pub(crate) const COMPANIES: &[Company] = &[
    Company {
        id: "3f1c8a52-6d0e-4a4b-9c1e-2b7d5e8f0a11",
        name: "Nordlys Design ApS",
        registration_number: "DK38451122",
        locality: "Copenhagen",
        country: "DK",
    },
    Company {
        id: "8b2e4f10-93c7-4d51-a6f8-0e9d1c2b3a44",
        name: "Fjord Logistics Ltd",
        registration_number: "GB11843207",
        locality: "London",
        country: "GB",
    },
];

const FIRST: &[&str] = &[
    "Astrid", "Mads", "Sofie", "Oliver", "Freja", "Noah", "Ida", "William", "Clara", "Emil", "Maja", "Lucas",
];
const LAST: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
];
const TITLES: &[&str] = &[
    "Finance Manager",
    "Software Engineer",
    "Office Manager",
    "Sales Lead",
    "Designer",
    "CFO",
    "Account Executive",
];

/// How many employees the demo has.
pub(crate) const EMPLOYEE_COUNT: usize = 24;

/// Employee `i` (0-based) in Pleo's `/v2/employees` item shape.
pub(crate) fn employee(i: usize) -> Value {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i * 7 + 3) % LAST.len()];
    let company = &COMPANIES[i % COMPANIES.len()];
    let domain = company.name.split(' ').next().unwrap_or("example").to_lowercase();
    json!({
        "id": format!("e{:07x}-0d3e-4c1a-8f00-{:012}", 0x51a0 + i * 97, i + 1),
        "companyId": company.id,
        "email": format!("{}.{}@{}.example", first.to_lowercase(), last.to_lowercase().replace('ø', "oe"), domain),
        "firstName": first,
        "lastName": last,
        "code": format!("EMP{:04}", i + 1),
        "jobTitle": TITLES[(i * 5 + 1) % TITLES.len()],
        "phone": format!("+45 {:02} {:02} {:02} {:02}", 20 + i % 70, (i * 13) % 100, (i * 29) % 100, (i * 31) % 100),
    })
}

/// The demo users who can sign in on the consent page: (id, display name, company name).
pub(crate) fn demo_users() -> Vec<(String, String, &'static str)> {
    (0..3)
        .map(|i| {
            let e = employee(i);
            let name = format!(
                "{} {}",
                e["firstName"].as_str().unwrap_or(""),
                e["lastName"].as_str().unwrap_or("")
            );
            (
                e["id"].as_str().unwrap_or("").to_owned(),
                name,
                COMPANIES[i % COMPANIES.len()].name,
            )
        })
        .collect()
}

/// The statuses Pleo documents for export jobs; the demo has a job in each.
const EXPORT_STATUSES: &[&str] = &["pending", "in_progress", "failed", "completed", "completed_with_errors"];

/// How many export jobs the demo has.
pub(crate) const EXPORT_JOB_COUNT: usize = 7;

/// Export job `i` (0-based) in Pleo's `/v3/export-jobs` item shape.
pub(crate) fn export_job(i: usize) -> Value {
    let company = &COMPANIES[i % COMPANIES.len()];
    json!({
        "id": format!("5b0e{:04x}-7c2d-4f1a-9e3b-{:012}", 0x1000 + i * 17, i + 1),
        "companyId": company.id,
        "status": EXPORT_STATUSES[i % EXPORT_STATUSES.len()],
        "createdAt": format!("2026-10-{:02}T09:{:02}:00Z", 1 + i * 3, (i * 7) % 60),
        "numberOfItems": 12 + i * 9,
        "exportType": "ACCOUNTING",
    })
}

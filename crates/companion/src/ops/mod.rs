//! Operating the companion as a service: the probes a load balancer asks (`/healthz`,
//! `/readyz`), Prometheus metrics on a listener of their own, and one log line per request with
//! its request id (docs/running-as-a-service.md). The lifecycle a shutdown signal moves is
//! [`crate::lifecycle`]; the metrics' names are [`crate::metric_names`].

pub mod metrics;
pub mod probes;
pub mod request_log;

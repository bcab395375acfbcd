//! Operating the companion as a service: the probes a load balancer asks (`/healthz`,
//! `/readyz`), Prometheus metrics on a listener of their own, one log line per request with its
//! request id, and the lifecycle a shutdown signal moves (docs/running-as-a-service.md).

pub mod lifecycle;
pub mod metrics;
pub mod probes;
pub mod request_log;

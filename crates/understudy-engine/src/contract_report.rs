//! The contract report: every request that broke the contract since start-up, per operation, written
//! at shutdown as JSON and as JUnit XML for CI systems to display. Bounded like everything else.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Value, json};

use crate::request_log::LoggedRequest;

/// At most this many violating requests are kept (the counts stay exact).
pub(crate) const MAX_KEPT_FAILURES: usize = 10_000;

/// At most this many bytes of violating requests are kept, by
/// [`LoggedRequest::size_estimate`]'s count (each entry is bounded too, so this is reached only
/// by requests that each break many rules).
pub(crate) const MAX_KEPT_BYTES: usize = 16 * 1024 * 1024;

/// What the report's operations are keyed by when no operation matched (404 and 405).
pub(crate) const UNMATCHED: &str = "(no matching operation)";

/// The running tally behind the report.
#[derive(Debug, Default)]
pub struct ContractReport {
    state: Mutex<ReportState>,
}

#[derive(Debug, Default)]
struct ReportState {
    operations: BTreeMap<(String, String), OperationTally>,
    kept: usize,
    kept_bytes: usize,
}

#[derive(Debug, Default, Clone, Serialize)]
struct OperationTally {
    requests: u64,
    violating: u64,
    failures: Vec<LoggedRequest>,
}

impl ContractReport {
    /// Counts one request, keeping it (cut to its bounds, [`LoggedRequest::bound`]) if it broke
    /// the contract and there is room.
    pub(crate) fn record(&self, entry: &LoggedRequest, matched: bool) {
        let broke = !entry.violations.is_empty() || !matched;
        let kept = broke.then(|| {
            // The report keeps what it always kept: no latency, no headers, no bodies.
            let mut kept = entry.clone_without_exchange();
            kept.bound();
            let bytes = kept.size_estimate();
            (kept, bytes)
        });
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (
            entry.spec.as_deref().unwrap_or_default().to_owned(),
            entry.operation.as_deref().unwrap_or(UNMATCHED).to_owned(),
        );
        let kept = kept.filter(|(_, bytes)| {
            state.kept < MAX_KEPT_FAILURES && state.kept_bytes + bytes <= MAX_KEPT_BYTES
        });
        if let Some((_, bytes)) = &kept {
            state.kept += 1;
            state.kept_bytes += bytes;
        }
        let tally = state.operations.entry(key).or_default();
        tally.requests += 1;
        if broke {
            tally.violating += 1;
            if let Some((entry, _)) = kept {
                tally.failures.push(entry);
            }
        }
    }

    /// About how many bytes the kept requests hold ([`LoggedRequest::size_estimate`]).
    pub fn kept_bytes(&self) -> usize {
        match self.state.lock() {
            Ok(state) => state.kept_bytes,
            Err(poisoned) => poisoned.into_inner().kept_bytes,
        }
    }

    /// How many requests broke the contract.
    pub fn violating(&self) -> u64 {
        self.snapshot().values().map(|tally| tally.violating).sum()
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let operations: Vec<Value> = self
            .snapshot()
            .into_iter()
            .map(|((spec, operation), tally)| {
                json!({
                    "spec": spec,
                    "operation": operation,
                    "requests": tally.requests,
                    "violating": tally.violating,
                    "failures": tally.failures,
                })
            })
            .collect();
        let requests: u64 = operations
            .iter()
            .filter_map(|o| o["requests"].as_u64())
            .sum();
        json!({
            "requests": requests,
            "violating": self.violating(),
            "operations": operations,
        })
    }

    /// The report as JUnit XML: a test case per operation, a failure per violating request.
    pub fn to_junit(&self) -> String {
        let snapshot = self.snapshot();
        let failures: u64 = snapshot.values().map(|tally| tally.violating).sum();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<testsuites name=\"understudy contract\" tests=\"{}\" failures=\"{failures}\">\n",
            snapshot.len()
        ));
        xml.push_str(&format!(
            "  <testsuite name=\"understudy contract\" tests=\"{}\" failures=\"{failures}\">\n",
            snapshot.len()
        ));
        for ((spec, operation), tally) in &snapshot {
            let classname = if spec.is_empty() { "understudy" } else { spec };
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                escape(classname),
                escape(operation)
            ));
            for failure in &tally.failures {
                let message = match failure.violations.first() {
                    Some(first) => format!(
                        "{} {} → {}: {first}",
                        failure.method, failure.path, failure.status
                    ),
                    None => format!("{} {} → {}", failure.method, failure.path, failure.status),
                };
                let details: Vec<String> =
                    failure.violations.iter().map(ToString::to_string).collect();
                xml.push_str(&format!(
                    "      <failure message=\"{}\" type=\"contract\">{}</failure>\n",
                    escape(&message),
                    escape(&details.join("\n"))
                ));
            }
            let unkept = tally.violating.saturating_sub(tally.failures.len() as u64);
            if unkept > 0 {
                xml.push_str(&format!(
                    "      <failure message=\"{unkept} more violating requests not kept\" type=\"contract\"/>\n"
                ));
            }
            xml.push_str("    </testcase>\n");
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }

    fn snapshot(&self) -> BTreeMap<(String, String), OperationTally> {
        match self.state.lock() {
            Ok(state) => state.operations.clone(),
            Err(poisoned) => poisoned.into_inner().operations.clone(),
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::violation::{Location, Violation, ViolationClass};

    fn entry(violations: Vec<Violation>) -> LoggedRequest {
        LoggedRequest {
            sequence: 1,
            method: http::Method::POST,
            path: "/users".into(),
            query: None,
            status: if violations.is_empty() { 201 } else { 422 },
            spec: Some("deployhq".into()),
            operation: Some("POST /users (createUser)".into()),
            violations: violations.into(),
            violations_omitted: 0,
            latency_us: None,
            exchange: None,
            callbacks: Vec::new(),
        }
    }

    #[test]
    fn counts_requests_and_keeps_the_violating_ones_in_both_formats() {
        let report = ContractReport::default();
        report.record(&entry(Vec::new()), true);
        let bad = Violation::new(
            ViolationClass::Schema,
            Location::Body,
            "/user/email_address",
            "email_address",
            "format",
            "\"x\" is not a valid <e-mail>",
        );
        report.record(&entry(vec![bad]), true);
        assert_eq!(report.violating(), 1);
        let json = report.to_json();
        assert_eq!(json["requests"], 2);
        assert_eq!(
            json["operations"][0]["failures"][0]["violations"][0]["pointer"],
            "/user/email_address"
        );
        let xml = report.to_junit();
        assert!(
            xml.contains("<testcase classname=\"deployhq\" name=\"POST /users (createUser)\">"),
            "{xml}"
        );
        assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
        assert!(xml.contains("&lt;e-mail&gt;"), "{xml}");
    }
}

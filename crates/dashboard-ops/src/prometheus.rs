//! A real Prometheus server (Debian's `prometheus`) scraping the instances of
//! the local topology at `/api/v1/admin/metrics`, with the project's alert
//! rules (`prometheus-rules.yml`): what the service's own deployment runs as
//! `sse-prometheus`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use sse_core::monitoring::prometheus_server::RECORDING_GROUPS;

use crate::http_check::{wait_healthy, Health};
use crate::local_stack::START_TIMEOUT;
use crate::process::{find_program, Supervised};

/// The scrape job of the service's instances (the original deployment's name).
pub const JOB: &str = "sse-app";

/// How often the server scrapes and evaluates, and how long an alert's
/// condition holds before it fires.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub scrape: Duration,
    pub alert_for: Duration,
}

impl Default for Timing {
    /// The one-machine topology: every 5 s, alerts after a minute.
    fn default() -> Self {
        Self {
            scrape: Duration::from_secs(5),
            alert_for: Duration::from_secs(60),
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// prometheus.yml: one target per instance, its `instance` label its name.
pub fn config_yaml(targets: &[(String, String)], timing: Timing) -> String {
    let mut out = format!(
        "# Written by dashboard-ops for the local topology.\nglobal:\n  scrape_interval: {s}\n  evaluation_interval: {s}\n  scrape_timeout: {s}\nrule_files:\n  - rules.yml\nscrape_configs:\n  - job_name: {JOB}\n    metrics_path: /api/v1/admin/metrics\n    static_configs:\n",
        s = seconds(timing.scrape)
    );
    for (name, address) in targets {
        out.push_str(&format!(
            "      - targets: ['{address}']\n        labels:\n          instance: '{name}'\n"
        ));
    }
    out
}

/// Which of the project's rule groups the server evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// The alerts and the dashboard's recording rules.
    All,
    /// The alerts only, as a server set up before the dashboard's recording
    /// rules (the dashboard then reads the raw series).
    AlertsOnly,
}

/// The project's rules with `${ALERT_FOR}` filled in.
pub fn rules_yaml(template: &str, timing: Timing, rules: Rules) -> String {
    let mut yaml = template.replace("${ALERT_FOR}", &seconds(timing.alert_for));
    if rules == Rules::AlertsOnly {
        for group in RECORDING_GROUPS {
            yaml = without_group(&yaml, group.name);
        }
    }
    yaml
}

/// `yaml` without the rule group `name` (its `  - name:` line up to the next group's).
fn without_group(yaml: &str, name: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in yaml.lines() {
        if let Some(group) = line.strip_prefix("  - name: ") {
            skipping = group.trim() == name;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A running Prometheus server; stopped on drop.
pub struct PrometheusServer {
    process: Supervised,
    listen: SocketAddr,
    _runtime: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts the server on `listen`, scraping each (name, `host:port`) of
    /// `targets`, with every rule of the project.
    pub fn start(
        project_root: &Path,
        listen: SocketAddr,
        targets: &[(String, String)],
        timing: Timing,
    ) -> anyhow::Result<Self> {
        Self::start_with_rules(project_root, listen, targets, timing, Rules::All)
    }

    /// [`Self::start`] with only some of the project's rules.
    pub fn start_with_rules(
        project_root: &Path,
        listen: SocketAddr,
        targets: &[(String, String)],
        timing: Timing,
        rules: Rules,
    ) -> anyhow::Result<Self> {
        let binary = find_program("prometheus")
            .context("prometheus is not installed: run scripts/setup (Debian's package)")?;
        let runtime = tempfile::Builder::new()
            .prefix("dashboard-prometheus-")
            .tempdir()?;
        let template_path = project_root.join("prometheus-rules.yml");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("cannot read {}", template_path.display()))?;
        std::fs::write(
            runtime.path().join("rules.yml"),
            rules_yaml(&template, timing, rules),
        )?;
        let config = runtime.path().join("prometheus.yml");
        std::fs::write(&config, config_yaml(targets, timing))?;
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                runtime.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .arg("--storage.tsdb.retention.time=1d")
            .arg("--log.level=warn");
        let log = runtime.path().join("prometheus.log");
        let process =
            Supervised::spawn_listening("prometheus", command, &log, listen, START_TIMEOUT)?;
        // It listens before its storage and rules are loaded, and answers
        // 503 to every query until then.
        let ready = format!("http://{listen}/-/ready");
        if let Health::Down(why) = wait_healthy(&ready, START_TIMEOUT) {
            anyhow::bail!(
                "prometheus was not ready after {START_TIMEOUT:?} ({why}); see {}",
                log.display()
            )
        }
        Ok(Self {
            process,
            listen,
            _runtime: runtime,
        })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_core::monitoring::prometheus_server::recording_rules;

    #[test]
    fn the_config_scrapes_each_instance_by_its_name_and_the_rules_get_their_hold() {
        let targets = [("app-1".to_owned(), "127.0.0.1:8001".to_owned())];
        let timing = Timing {
            scrape: Duration::from_secs(1),
            alert_for: Duration::from_secs(2),
        };
        let yaml = config_yaml(&targets, timing);
        assert!(yaml.contains("scrape_interval: 1s"));
        assert!(yaml.contains("metrics_path: /api/v1/admin/metrics"));
        assert!(yaml.contains(
            "- targets: ['127.0.0.1:8001']\n        labels:\n          instance: 'app-1'"
        ));
        let rules = rules_yaml(
            include_str!("../../../prometheus-rules.yml"),
            timing,
            Rules::All,
        );
        assert!(!rules.contains("${"));
        assert!(rules.contains("for: 2s"));
        for alert in [
            "InstanceDown",
            "HighErrorRate",
            "HighP95Latency",
            "HighP99Latency",
            "NoRequests",
        ] {
            assert!(rules.contains(&format!("alert: {alert}")), "{alert}");
        }
        assert!(rules.contains(&format!("up{{job=\"{JOB}\"}} == 0")));
    }

    /// The file's recording groups are the dashboard's, rule for rule.
    #[test]
    fn the_recording_groups_are_the_dashboards_and_can_be_left_out() {
        let template = include_str!("../../../prometheus-rules.yml");
        let rules = rules_yaml(template, Timing::default(), Rules::All);
        for group in RECORDING_GROUPS {
            let section = rules
                .split(&format!("  - name: {}\n", group.name))
                .nth(1)
                .and_then(|rest| rest.split("  - name: ").next())
                .unwrap_or_else(|| panic!("no group {}", group.name));
            let interval = section
                .lines()
                .find_map(|l| l.trim().strip_prefix("interval: "));
            assert_eq!(interval, group.interval, "{}", group.name);
            let pairs: Vec<(String, String)> = section
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- record: "))
                .map(str::to_owned)
                .zip(
                    section
                        .lines()
                        .filter_map(|l| l.trim().strip_prefix("expr: "))
                        .map(str::to_owned),
                )
                .collect();
            let expected: Vec<(String, String)> = group
                .rules()
                .into_iter()
                .map(|r| (r.record, r.expr))
                .collect();
            assert_eq!(pairs, expected, "{}", group.name);
        }
        assert_eq!(rules.matches("- record: ").count(), recording_rules().len());
        let alerts_only = rules_yaml(template, Timing::default(), Rules::AlertsOnly);
        assert!(!alerts_only.contains("record:"));
        assert!(!alerts_only.contains("sse_dashboard_records"));
        assert!(alerts_only.contains("alert: HighQueueDepth"));
        assert_eq!(
            alerts_only.matches("  - name: ").count() + RECORDING_GROUPS.len(),
            rules.matches("  - name: ").count()
        );
    }
}

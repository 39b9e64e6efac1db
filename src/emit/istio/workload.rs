//! The pod of a pod version: its container with the version's resources and probes, and
//! the default hardening (see the README, "Workload hardening").

use super::objects::*;
use crate::model::{self, ProbeAction, ProbeKind};

/// The UID and GID containers run as: at least 10000, so that it is nobody's on the node
/// (checkov CKV_K8S_40), and not 1337, the proxy's, whose traffic Istio leaves uncaptured.
pub(crate) const RUN_AS: i64 = 10001;

/// The writable directory a read-only root filesystem keeps.
const TMP: &str = "tmp";

pub(super) fn pod_spec(
    service: &model::Service,
    version: &model::Version,
    pod: &model::Pod,
    target_ports: &[(u16, &'static str)],
) -> PodSpec {
    let settings = &pod.container;
    let h = settings.hardening;
    let hardened = !h.off;
    let read_only = hardened && !h.writable_root;
    let user = (hardened && !h.image_user && !h.root).then_some(RUN_AS);
    let seccomp = || SeccompProfile { kind: "RuntimeDefault" };
    let probe = |kind: ProbeKind| settings.probes.iter().find(|p| p.kind == kind).map(probe);
    PodSpec {
        automount_service_account_token: h.off || h.token,
        containers: vec![Container {
            name: service.name.clone(),
            image: pod.image.clone(),
            image_pull_policy: "Always",
            ports: target_ports
                .iter()
                .map(|&(container_port, protocol)| ContainerPort {
                    container_port,
                    protocol,
                })
                .collect(),
            env: pod
                .env
                .iter()
                .map(|(name, value)| EnvVar {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            resources: Resources {
                limits: settings.limits.clone(),
                requests: settings.requests.clone(),
            },
            startup_probe: probe(ProbeKind::Startup),
            readiness_probe: probe(ProbeKind::Readiness),
            liveness_probe: probe(ProbeKind::Liveness),
            security_context: hardened.then(|| ContainerSecurityContext {
                allow_privilege_escalation: false,
                capabilities: Capabilities { drop: vec!["ALL"] },
                privileged: false,
                read_only_root_filesystem: read_only,
                run_as_non_root: !h.root,
                run_as_user: user,
                run_as_group: user,
                seccomp_profile: seccomp(),
            }),
            volume_mounts: if read_only {
                vec![VolumeMount {
                    name: TMP,
                    mount_path: "/tmp",
                }]
            } else {
                Vec::new()
            },
        }],
        security_context: hardened.then(|| PodSecurityContext {
            run_as_non_root: !h.root,
            seccomp_profile: seccomp(),
        }),
        service_account_name: version.account.clone(),
        volumes: if read_only {
            vec![Volume {
                name: TMP,
                empty_dir: EmptyDir {},
            }]
        } else {
            Vec::new()
        },
    }
}

fn probe(p: &model::Probe) -> Probe {
    let mut out = Probe {
        initial_delay_seconds: p.delay,
        period_seconds: p.period,
        timeout_seconds: p.timeout,
        failure_threshold: p.failures,
        ..Probe::default()
    };
    match &p.action {
        ProbeAction::Http { path, port } => {
            out.http_get = Some(HttpGetAction {
                path: path.clone(),
                port: *port,
            });
        }
        ProbeAction::Tcp { port } => out.tcp_socket = Some(TcpSocketAction { port: *port }),
        ProbeAction::Exec(command) => {
            out.exec = Some(ExecAction {
                command: command.clone(),
            })
        }
    }
    out
}

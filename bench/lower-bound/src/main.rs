//! `lower-bound N [FILE]`: writes to stdout the exact bytes `meshc build` prints for the file
//! `bench/gen-mesh.py N --shape hello-chain` generates, by hand: no parsing, no checking, no
//! serde; one `String` filled with `write!` in the order meshc sorts its documents, then one
//! write. The bench compares meshc with it (`bench/run.sh` checks that the bytes are equal).
//! When FILE is given it is read into memory first, so that reading the input is counted too.

use std::fmt::Write as _;
use std::io::Write as _;

const NS: &str = "bench-0";
const IMAGE: &str = "registry.example.com/bench/http-hello:1.0.1";
/// The hardening every Deployment's container and pod get, from `resources:` to the pod's
/// `securityContext`.
const HARDENED: &str = "          resources:\n            limits:\n              cpu: \"1\"\n              memory: \"512Mi\"\n\
\x20           requests:\n              cpu: \"100m\"\n              memory: \"128Mi\"\n\
\x20         startupProbe:\n            tcpSocket:\n              port: 8001\n            periodSeconds: 5\n            failureThreshold: 60\n\
\x20         readinessProbe:\n            tcpSocket:\n              port: 8001\n\
\x20         livenessProbe:\n            tcpSocket:\n              port: 8001\n\
\x20         securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop:\n                - ALL\n\
\x20           privileged: false\n            readOnlyRootFilesystem: true\n            runAsNonRoot: true\n            runAsUser: 10001\n\
\x20           runAsGroup: 10001\n            seccompProfile:\n              type: RuntimeDefault\n\
\x20         volumeMounts:\n            - name: tmp\n              mountPath: /tmp\n\
\x20     securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n";
const WEIGHTS: [(&str, u32); 3] = [("v1", 30), ("v2", 60), ("v3", 10)];

/// The index-th VM address, as `gen-mesh.py` hands them out.
fn vm_address(index: usize) -> String {
    let (block, host) = (index / 254, index % 254);
    format!("10.{}.{}.{}", block / 256, block % 256, host + 1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next().and_then(|a| a.parse().ok()) {
        Some(n) if n >= 1 => n,
        _ => {
            eprintln!("usage: lower-bound N [FILE]  (N >= 1)");
            std::process::exit(2);
        }
    };
    let input = args.next().map(|path| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            eprintln!("lower-bound: cannot read {path}: {e}");
            std::process::exit(2);
        })
    });
    let width = (n - 1).max(0).to_string().len();
    let name = |i: usize| format!("svc{i:0width$}");
    let host = |i: usize| format!("svc{i:0width$}-svc.{NS}.svc.cluster.local");
    let mut out = String::with_capacity(n * 6200 + 4096);
    let o = &mut out;

    let _ = write!(
        o,
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NS}\n  labels:\n    istio-injection: enabled\n"
    );
    for i in 0..n {
        let _ = write!(
            o,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {}\n  namespace: {NS}\nautomountServiceAccountToken: false\n",
            name(i)
        );
    }
    for i in 0..n {
        let s = name(i);
        let _ = write!(
            o,
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {s}-svc\n  namespace: {NS}\n  labels:\n    app: {s}-deploy\n\
             spec:\n  selector:\n    app: {s}-deploy\n  ports:\n    - name: http\n      port: 8001\n      targetPort: 8001\n      protocol: TCP\n"
        );
    }
    for i in 0..n {
        let s = name(i);
        let _ = write!(
            o,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {s}-deploy-v1\n  namespace: {NS}\n  labels:\n    app: {s}-deploy\n    version: v1\n\
             spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {s}-deploy\n      version: v1\n  template:\n    metadata:\n      labels:\n        app: {s}-deploy\n        version: v1\n\
             \x20   spec:\n      automountServiceAccountToken: false\n      containers:\n        - name: {s}\n          image: \"{IMAGE}\"\n          imagePullPolicy: Always\n          ports:\n            - containerPort: 8001\n              protocol: TCP\n"
        );
        if i + 1 < n {
            let _ = write!(
                o,
                "          env:\n            - name: HTTP_HELLO_BACKEND\n              value: {}\n",
                host(i + 1)
            );
        }
        let _ = write!(o, "{HARDENED}      serviceAccountName: {s}\n      volumes:\n        - name: tmp\n          emptyDir: {{}}\n");
    }
    for i in 0..n {
        let s = name(i);
        for (k, version) in ["v2", "v3"].iter().enumerate() {
            let address = vm_address(2 * i + k);
            let _ = write!(
                o,
                "---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: {s}-{version}-{}\n  namespace: {NS}\n\
                 spec:\n  address: \"{address}\"\n  labels:\n    app: {s}-deploy\n    security.istio.io/tlsMode: istio\n    version: {version}\n  ports:\n    http: 8001\n  serviceAccount: {s}\n",
                address.replace('.', "-")
            );
        }
    }
    for i in 0..n {
        let s = name(i);
        for version in ["v2", "v3"] {
            let _ = write!(
                o,
                "---\napiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: {s}-deploy-{version}\n  namespace: {NS}\n\
                 spec:\n  metadata:\n    labels:\n      app: {s}-deploy\n      version: {version}\n\
                 \x20 template:\n    labels:\n      app: {s}-deploy\n      version: {version}\n    ports:\n      http: 8001\n    serviceAccount: {s}\n"
            );
        }
    }
    for i in 0..n {
        let _ = write!(
            o,
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {}\n  namespace: {NS}\nspec:\n  host: {}\n  subsets:\n",
            name(i),
            host(i)
        );
        for (version, _) in WEIGHTS {
            let _ = write!(o, "    - name: {version}\n      labels:\n        version: {version}\n");
        }
    }
    let _ = write!(
        o,
        "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: bench-gateway\n  namespace: {NS}\n\
         spec:\n  selector:\n    istio: ingressgateway\n  servers:\n    - port:\n        number: 8003\n        name: http-8003\n        protocol: HTTP\n      hosts:\n        - \"*\"\n"
    );
    let _ = write!(
        o,
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bench-gateway\n  namespace: {NS}\n\
         spec:\n  hosts:\n    - \"*\"\n  gateways:\n    - bench-gateway\n"
    );
    http_routes(o, &host(0), true);
    for i in 0..n {
        let h = host(i);
        let _ = write!(
            o,
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {}\n  namespace: {NS}\nspec:\n  hosts:\n    - {h}\n",
            name(i)
        );
        http_routes(o, &h, false);
    }
    let _ = write!(
        o,
        "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {NS}\nspec:\n  mtls:\n    mode: STRICT\n\
         ---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: allow-nothing\n  namespace: {NS}\nspec: {{}}\n"
    );
    for i in 0..n {
        // The first service is called by the gateway, every other one by the service before it.
        let caller = match i {
            0 => "istio-system/sa/istio-ingressgateway-service-account".to_string(),
            _ => format!("{NS}/sa/{}", name(i - 1)),
        };
        let s = name(i);
        let _ = write!(
            o,
            "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {s}-svc\n  namespace: {NS}\n\
             spec:\n  selector:\n    matchLabels:\n      app: {s}-deploy\n  rules:\n    - from:\n        - source:\n            principals:\n\
             \x20             - cluster.local/ns/{caller}\n      to:\n        - operation:\n            ports:\n              - \"8001\"\n"
        );
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        eprintln!("lower-bound: cannot write the output: {e}");
        std::process::exit(2);
    }
    drop(input);
}

/// The `http:` list of a VirtualService: the weighted `/hello` route, then the default route;
/// with `port` (the gateway's routes) every destination names the port.
fn http_routes(o: &mut String, host: &str, port: bool) {
    let port = if port { "            port:\n              number: 8001\n" } else { "" };
    let _ = write!(o, "  http:\n    - match:\n        - uri:\n            prefix: /hello\n      route:\n");
    for (version, weight) in WEIGHTS {
        let _ = write!(
            o,
            "        - destination:\n            host: {host}\n            subset: {version}\n{port}          weight: {weight}\n"
        );
    }
    let _ = write!(o, "    - route:\n        - destination:\n            host: {host}\n{port}");
}

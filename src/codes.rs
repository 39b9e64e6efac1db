//! The registry of diagnostic codes: one line per kind, its stable code, a short name and
//! its documentation page (`docs/codes/CODE.md`, printed by `meshc explain CODE`).
//!
//! Codes are never renumbered or reused. Ranges: M1xxx reading the file, M2xxx names and
//! references, M3xxx mesh rules, M4000–M4099 situations only existing manifests can be in
//! (`meshc lint`).

macro_rules! codes {
    ($($variant:ident = $id:literal, $name:literal, $summary:literal;)*) => {
        /// A kind of diagnostic.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, e.g. `M2001`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }

            /// A short kebab-case name, e.g. `unknown-service`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// One line saying what the check is about.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// The documentation page, in Markdown.
            pub fn doc(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../docs/codes/", $id, ".md")),)*
                }
            }
        }
    };
}

codes! {
    Syntax = "M1001", "syntax", "the file does not follow the .mesh grammar";
    BadEscape = "M1002", "bad-escape", "a string contains an escape sequence that does not exist";
    BadNumber = "M1003", "bad-number", "a number is too large to be read";
    BadVariable = "M1004", "bad-variable", "a malformed variable reference or vars-file line";
    Suppression = "M1010", "suppression", "a `# meshc: allow` comment that cannot be read, names an unknown code, or allows nothing";

    UnknownService = "M2001", "unknown-service", "a reference names a service that is not declared";
    UnknownVersion = "M2002", "unknown-version", "a route names a version the service does not have";
    Duplicate = "M2003", "duplicate", "something is declared twice";
    InvalidName = "M2004", "invalid-name", "a name is not valid where Kubernetes or Istio will use it";
    InvalidTemplate = "M2005", "invalid-template", "a naming template uses an unknown placeholder or produces an invalid name";
    NameCollision = "M2006", "name-collision", "two declarations would generate objects with the same name";
    UnknownKeyword = "M2007", "unknown-keyword", "an unknown property, setting, condition or naming key";
    UndefinedVariable = "M2008", "undefined-variable", "a `${NAME}` reference to a variable that is not defined";
    UnusedVariable = "M2009", "unused-variable", "a variable is defined but never used";
    ImportNotFound = "M2010", "import-not-found", "an imported file cannot be read";
    UnknownPort = "M2011", "unknown-port", "a route names a port the target service does not have";

    InvalidAddress = "M3001", "invalid-address", "a VM address is not an IP address Istio can route to";
    PortRange = "M3002", "port-range", "a port number is outside 1..65535";
    ReservedPort = "M3003", "reserved-port", "a port collides with a port the Istio sidecar uses itself";
    UnknownProtocol = "M3004", "unknown-protocol", "a port protocol Istio does not know";
    MissingImage = "M3005", "missing-image", "a pod version has no image";
    MissingAddress = "M3006", "missing-address", "a VM version has no address";
    MisplacedProperty = "M3007", "misplaced-property", "a property or condition that does not apply where it is written";
    BadWeight = "M3008", "bad-weight", "a route weight is negative or not a whole percentage";
    WeightSum = "M3009", "weight-sum", "the weights of a split do not add up to 100%";
    RepeatedTarget = "M3010", "repeated-target", "a split names the same destination twice";
    LabelMismatch = "M3011", "label-mismatch", "a label override breaks the selector that routes traffic to the workload";
    UnreachableRoute = "M3012", "unreachable-route", "a route can never match because an earlier route takes all its traffic";
    NoVersions = "M3013", "no-versions", "a service has no version to run it";
    NoPorts = "M3014", "no-ports", "a service or gateway listens on no port";
    InvalidHost = "M3015", "invalid-host", "a gateway host is not a hostname Istio accepts";
    NoHttpPort = "M3016", "no-route-port", "a route has no port or listener of its kind to apply to";
    InvalidValue = "M3017", "invalid-value", "a value Kubernetes or Istio would reject (replicas, env name, label, match)";
    IngressSplit = "M3018", "ingress-split", "a gateway route bypasses the version routes of the service it targets";
    PortRequired = "M3019", "port-required", "a route to a service with several ports does not say which";
    IneffectiveMatch = "M3020", "ineffective-match", "one alternative of a route can never match";
    TlsRequired = "M3021", "tls-required", "an HTTPS or TLS listener without TLS settings, or TLS settings on a plain listener";
    ConflictingListeners = "M3022", "conflicting-listeners", "two gateways on the same workloads listen on one port for the same host";
    ExternalProblem = "M3023", "external-service", "an external service that Istio would reject or misroute";
    NotExpressible = "M3024", "not-expressible", "a route feature the Gateway API cannot express";
    BypassedRoutes = "M3025", "bypassed-routes", "a mesh route sends to another service past that service's version routes";
    ObjectTooLarge = "M3026", "object-too-large", "an object larger than the API server stores (etcd's 1.5 MiB)";
    EastWestRequired = "M3040", "eastwest-required", "a VM on another network than the cluster's, with no east-west gateway declared";
    PlaintextCaller = "M3050", "plaintext-caller", "a VM without the Istio agent calls a service that accepts mutual TLS only";
    OptionalToken = "M3051", "optional-token", "a JWT setting lets requests without a token through";
    InvalidJwt = "M3052", "invalid-jwt", "a JWT issuer or key set that Istio cannot use";
    InsecureJwks = "M3053", "insecure-jwks", "a JWT key set fetched over plain HTTP";
    BadQuantity = "M3060", "bad-quantity", "a resource quantity Kubernetes would not accept, or one that cannot be meant";
    RequestOverLimit = "M3061", "request-over-limit", "a resource request larger than its limit";
    ProbePort = "M3062", "probe-port", "a probe checks a port the workload does not listen on";
    RunsAsRoot = "M3063", "runs-as-root", "a pod version turns off the hardening that keeps it from running as root";
    ManifestSyntax = "M4000", "manifest-syntax", "a manifest file given to `meshc lint` is not valid YAML";
    EmptySubset = "M4001", "empty-subset", "a DestinationRule subset selects no workload of its host";
    TrafficExpectation = "M4100", "traffic-expectation", "a traffic test expects requests to go elsewhere than the mesh sends them";
    TrafficTest = "M4101", "traffic-test", "a traffic test line that cannot be read, or names what the mesh does not have";
}

impl std::str::FromStr for Code {
    type Err = ();

    /// Accepts `M2001`, `m2001` or the name, `unknown-service`.
    fn from_str(s: &str) -> Result<Code, ()> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.id().eq_ignore_ascii_case(s) || c.name() == s)
            .ok_or(())
    }
}

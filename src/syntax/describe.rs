//! Human words for grammar rules, so that rule names never reach users.

use super::Rule;

/// How a rule is named in "expected ..." messages, or `None` for rules that are never
/// worth naming on their own (their tokens are listed instead). The match has no
/// wildcard: adding a rule to the grammar without words here does not compile.
pub(crate) fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::name => "a name",
        Rule::label_key => "a label key",
        Rule::string => "a string in double quotes",
        Rule::number => "a number",
        Rule::address => "an IP address",
        Rule::var_ref => "a variable such as `${VM_ADDRESS}`",
        Rule::import_decl => "an `import`",
        Rule::file | Rule::EOI => "the end of the file",
        Rule::byte_order_mark => "a byte-order mark",
        Rule::namespace_decl => "a `namespace` block",
        Rule::naming_block => "a `naming` block",
        Rule::naming_entry => "a naming entry such as `service \"{service}-svc\"`",
        Rule::service_decl => "a `service` block",
        Rule::port_decl => "a `port`",
        Rule::calls_decl => "`calls`",
        Rule::via_env => "`via env NAME`",
        Rule::version_decl => "a version (`pod` or `vm`)",
        Rule::image_prop
        | Rule::replicas_prop
        | Rule::env_prop
        | Rule::label_prop
        | Rule::annotation_prop
        | Rule::account_prop
        | Rule::at_prop
        | Rule::agent_prop
        | Rule::network_prop
        | Rule::locality_prop
        | Rule::weight_prop
        | Rule::autoregister_prop
        | Rule::other_prop => "a property",
        Rule::security_decl | Rule::security_key => "a security setting",
        Rule::cluster_block => "a `cluster` block",
        Rule::cluster_setting => "a cluster setting (`network`, `eastwest`, `revision`)",
        Rule::resources_prop | Rule::resource_entry => "resources such as `cpu 100m..500m`",
        Rule::quantity => "a quantity such as `100m`, `128Mi` or `100m..500m`",
        Rule::probe_prop | Rule::probe_setting => "a probe such as `probe readiness http \"/healthz\"`",
        Rule::probe_port => "a probe `port`",
        Rule::relax_prop => "what to relax (`writable-root`, `image-user`, `root`, `token`)",
        Rule::hardening_prop => "`hardening off`",
        Rule::workload_setting => "a workload setting (`resources`, `probe`, `relax`, `hardening`)",
        Rule::route_decl => "a `route`",
        Rule::alternative => "a condition",
        Rule::uri_cond | Rule::match_type => "a path match such as `prefix \"/path\"`",
        Rule::header_cond => "a header match",
        Rule::query_cond => "a query parameter match",
        Rule::method_cond => "a method match",
        Rule::port_cond => "a port match",
        Rule::from_cond => "a source match such as `from reviews`",
        Rule::sni_cond => "an SNI match",
        Rule::host_cond => "a host match",
        Rule::other_cond => "a condition",
        Rule::split => "a weighted split `{ v1 50% v2 50% }`",
        Rule::split_entry => "a version and its weight",
        Rule::weight => super::error::WEIGHT,
        Rule::route_option | Rule::option_key => "a route option such as `timeout 5s`",
        Rule::duration => "a duration such as `5s`",
        Rule::target => "a target such as `v1` or `reviews/v2`",
        Rule::policy_block => "a `policy` block",
        Rule::policy_setting | Rule::policy_key => "a policy setting (`lb`, `connections`, `http`, `outlier`, `tls`)",
        Rule::external_decl => "an `external` block",
        Rule::external_setting | Rule::external_key => {
            "an external setting (`hosts`, `resolution`, `location`, `addresses`)"
        }
        Rule::listen_option | Rule::listen_key => "a listener option (`tls`, `credential`, `https-redirect`)",
        Rule::gateway_decl => "a `gateway` block",
        Rule::listen_decl => "a `listen` line",
        Rule::selector_prop => "a `selector`",
        Rule::WHITESPACE
        | Rule::comment_text
        | Rule::ident_char
        | Rule::keyword
        | Rule::version_end
        | Rule::property
        | Rule::address_value
        | Rule::value
        | Rule::condition
        | Rule::condition_start
        | Rule::action_start
        | Rule::route_action
        // Their literal tokens are listed instead.
        | Rule::runtime
        | Rule::single_target
        | Rule::redirect_action
        | Rule::respond_action
        | Rule::or_keyword
        | Rule::absent
        | Rule::route_kind => return None,
    })
}

//! `ipcring bench --json`: the report as JSON, in the schema documented in `cli/JSON.md`.
//! Within one [`SCHEMA`] version fields are only added, never renamed, removed or
//! retyped; the tests below hold the fields of version 1 and check the document against
//! them.

use crate::report::Report;
use serde_json::{json, Value};

/// The version of the schema: raised when a field is renamed, removed or changes type.
pub const SCHEMA: u64 = 1;

/// The report as one JSON object.
pub fn report(r: &Report) -> Value {
    let rows: Vec<Value> = r
        .latency
        .iter()
        .map(|l| {
            let [min, p50, p99, p999, p9999, max] = l.ns;
            json!({
                "name": l.name,
                "mech": l.mech.id(),
                "kind": l.mech.kind().as_str(),
                "group": l.group,
                "size": l.size,
                "rate_hz": l.rate_hz,
                "samples": l.samples,
                "min": min,
                "p50": p50,
                "p99": p99,
                "p999": p999,
                "p9999": p9999,
                "max": max,
                "ratio_to_first": l.ratio,
                "ratio_to_limit": l.ratio_to_limit,
            })
        })
        .collect();
    let throughput: Vec<Value> = r
        .throughput
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "mech": t.mech.id(),
                "kind": t.mech.kind().as_str(),
                "group": t.group,
                "size": t.size,
                "producers": t.producers,
                "consumers": t.consumers,
                "messages": t.messages,
                "secs": t.secs,
                "msgs_per_s": t.msgs_per_sec(),
                "bytes_per_s": t.bytes_per_sec(),
                "ratio_to_first": t.ratio,
                "ratio_to_reference": t.ratio_to_reference,
                "wakes_per_m": t.wakes_per_m,
                "sleeps_per_m": t.sleeps_per_m,
            })
        })
        .collect();
    let targets: Vec<Value> = r
        .targets
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "what": t.what,
                "measured": t.measured,
                "goal": t.goal.to_string(),
                "op": t.goal.op(),
                "bound": t.goal.bound(),
                "met": t.met,
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "generator": concat!("ipcring bench ", env!("CARGO_PKG_VERSION")),
        "quick": r.quick,
        "machine": r.machine.json(),
        "rows": rows,
        "throughput": throughput,
        "targets": targets,
        "notes": r.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mech::Kind;
    use crate::report::sample;
    use std::collections::BTreeMap;

    /// The fields of schema 1, per object, with their JSON types: the contract. A field
    /// may be added here (and to JSON.md); one that is renamed or removed fails the tests.
    const TOP: &[(&str, &str)] = &[
        ("schema", "integer"),
        ("generator", "string"),
        ("quick", "boolean"),
        ("machine", "object"),
        ("rows", "array"),
        ("throughput", "array"),
        ("targets", "array"),
        ("notes", "array"),
    ];
    const MACHINE: &[(&str, &str)] = &[
        ("cpu", "string"),
        ("cpus_online", "integer"),
        ("kernel", "string"),
        ("hypervisor", "boolean"),
        ("container", "boolean"),
        ("load", "array"),
        ("pinned_cpus", "array or null"),
    ];
    const ROW: &[(&str, &str)] = &[
        ("name", "string"),
        ("mech", "string"),
        ("kind", "string"),
        ("group", "string"),
        ("size", "integer"),
        ("rate_hz", "integer or null"),
        ("samples", "integer"),
        ("min", "integer"),
        ("p50", "integer"),
        ("p99", "integer"),
        ("p999", "integer"),
        ("p9999", "integer"),
        ("max", "integer"),
        ("ratio_to_first", "number"),
        ("ratio_to_limit", "number or null"),
    ];
    const THROUGHPUT: &[(&str, &str)] = &[
        ("name", "string"),
        ("mech", "string"),
        ("kind", "string"),
        ("group", "string"),
        ("size", "integer"),
        ("producers", "integer"),
        ("consumers", "integer"),
        ("messages", "integer"),
        ("secs", "number"),
        ("msgs_per_s", "number"),
        ("bytes_per_s", "number"),
        ("ratio_to_first", "number"),
        ("ratio_to_reference", "number or null"),
        ("wakes_per_m", "number or null"),
        ("sleeps_per_m", "number or null"),
    ];
    const TARGET: &[(&str, &str)] = &[
        ("id", "string"),
        ("what", "string"),
        ("measured", "number"),
        ("goal", "string"),
        ("op", "string"),
        ("bound", "number"),
        ("met", "boolean"),
    ];

    /// The objects of the schema: (section of JSON.md, fields).
    const OBJECTS: [(&str, &[(&str, &str)]); 5] = [
        ("", TOP),
        ("machine", MACHINE),
        ("rows[]", ROW),
        ("throughput[]", THROUGHPUT),
        ("targets[]", TARGET),
    ];

    const DOC: &str = include_str!("../JSON.md");

    /// Whether `v` has the JSON type `ty` ("integer", "number or null", ...).
    fn has_type(v: &Value, ty: &str) -> bool {
        ty.split(" or ").any(|t| match t {
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "null" => v.is_null(),
            other => panic!("unknown type {other:?}"),
        })
    }

    /// Checks that `obj` has exactly the fields `fields`, each with its type.
    fn check(what: &str, obj: &Value, fields: &[(&str, &str)]) {
        let map = obj.as_object().unwrap_or_else(|| panic!("{what}: {obj}"));
        for (name, ty) in fields {
            let v = map
                .get(*name)
                .unwrap_or_else(|| panic!("{what}: no field {name:?} in {obj}"));
            assert!(has_type(v, ty), "{what}.{name} = {v} is not {ty}");
        }
        for key in map.keys() {
            assert!(
                fields.iter().any(|(n, _)| n == key),
                "{what}.{key} is not in the schema (nor in JSON.md)"
            );
        }
    }

    /// The tables of JSON.md: section (the first `code` of a `##` heading, "" for "Top
    /// level") -> (field, type) in order.
    fn documented() -> BTreeMap<String, Vec<(String, String)>> {
        let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut section = None;
        for line in DOC.lines() {
            if let Some(h) = line.strip_prefix("## ") {
                section = if h.starts_with("Top level") {
                    Some(String::new())
                } else {
                    h.split('`').nth(1).map(str::to_owned)
                };
            } else if let (Some(s), Some(row)) = (&section, line.strip_prefix("| `")) {
                let mut cells = row.split('|');
                let field = cells.next().unwrap_or("").trim().trim_end_matches('`');
                let ty = cells.next().unwrap_or("").trim();
                out.entry(s.clone())
                    .or_default()
                    .push((field.to_owned(), ty.to_owned()));
            }
        }
        out
    }

    #[test]
    fn every_schema_field_is_present_with_its_type() {
        let v = report(&sample());
        check("top level", &v, TOP);
        assert_eq!(v["schema"], 1);
        check("machine", &v["machine"], MACHINE);
        for r in v["rows"].as_array().unwrap() {
            check("rows[]", r, ROW);
        }
        for t in v["throughput"].as_array().unwrap() {
            check("throughput[]", t, THROUGHPUT);
        }
        for t in v["targets"].as_array().unwrap() {
            check("targets[]", t, TARGET);
        }
        assert!(v["notes"].as_array().unwrap().iter().all(Value::is_string));
        let load = v["machine"]["load"].as_array().unwrap();
        assert!(load.len() == 3 && load.iter().all(Value::is_number));
        assert_eq!(v["machine"]["pinned_cpus"], json!([0, 1]));
    }

    #[test]
    fn json_md_documents_exactly_the_schema() {
        let doc = documented();
        for (section, fields) in OBJECTS {
            let got = doc
                .get(section)
                .unwrap_or_else(|| panic!("JSON.md has no table for {section:?}"));
            let want: Vec<(String, String)> = fields
                .iter()
                .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
                .collect();
            assert_eq!(got, &want, "JSON.md, section {section:?}");
        }
        let kinds: Vec<&str> = doc["kind"].iter().map(|(k, _)| k.as_str()).collect();
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, all, "JSON.md, the kinds");
    }

    #[test]
    fn values_are_what_the_rows_say() {
        let v = report(&sample());
        let rows = v["rows"].as_array().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r["mech"].as_str().unwrap()).collect();
        assert_eq!(names, ["limit", "ring-spin", "ring-try", "pipe"]);
        let try_row = &rows[2];
        assert_eq!(try_row["kind"], "spsc");
        assert_eq!(try_row["p50"], 120);
        assert!((try_row["ratio_to_limit"].as_f64().unwrap() - 1.2).abs() < 0.01);
        assert_eq!(rows[0]["kind"], "limit");
        assert!(rows[3]["ratio_to_limit"].is_null());
        assert_eq!(rows[3]["rate_hz"], 100);
        assert_eq!(rows[3]["kind"], "kernel");
        let tp = v["throughput"].as_array().unwrap();
        assert_eq!(tp[0]["kind"], "reference");
        assert_eq!(tp[1]["ratio_to_reference"], 2.0);
        assert_eq!(tp[1]["msgs_per_s"], 4000.0);
        assert!(tp[2]["ratio_to_reference"].is_null());
        assert_eq!(
            (tp[2]["producers"].as_u64(), tp[2]["consumers"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(v["targets"][0]["op"], "<=");
        assert_eq!(v["targets"][0]["bound"], 1.1);
        assert_eq!(v["targets"][0]["goal"], "<= 1.1");
        let text = v.to_string();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }

    #[test]
    fn every_mechanism_is_documented_with_its_kind() {
        use clap::ValueEnum;
        let doc = documented();
        let want: Vec<(String, String)> = crate::mech::Mech::value_variants()
            .iter()
            .map(|m| (m.id(), m.kind().as_str().to_owned()))
            .collect();
        assert_eq!(doc["mech"], want, "JSON.md, the mechanisms");
    }
}

//! Rules for resource limits and reservations.

use crate::model::{GenericResource, NANO_CPUS_PER_CPU, ResourceRequirements, Resources};
use crate::validate::error::{Report, Rule};
use crate::validate::quantity::Quantity;

/// Smallest memory limit or reservation: 4 MiB, as SwarmKit.
pub const MIN_MEMORY_BYTES: i64 = 4 * 1024 * 1024;
/// Smallest CPU limit or reservation: 0.01 CPU, the smallest the Docker engine accepts.
pub const MIN_NANO_CPUS: i64 = NANO_CPUS_PER_CPU / 100;

pub(crate) fn check_requirements(r: &mut Report, path: &str, req: &ResourceRequirements) {
    if let Some(limits) = &req.limits {
        let p = format!("{path}.limits");
        check_amounts(r, &p, limits);
        for (i, _) in limits.generic.iter().enumerate() {
            r.push(format!("{p}.generic[{i}]"), Rule::GenericLimit);
        }
    }
    if let Some(res) = &req.reservations {
        let p = format!("{path}.reservations");
        check_amounts(r, &p, res);
        check_generic_reservations(r, &format!("{p}.generic"), &res.generic);
    }
    if let (Some(limits), Some(res)) = (&req.limits, &req.reservations) {
        if limits.memory_bytes > 0 && res.memory_bytes > limits.memory_bytes {
            r.push(
                format!("{path}.reservations.memory_bytes"),
                Rule::ReservationAboveLimit {
                    reservation: Quantity::Bytes(res.memory_bytes),
                    limit: Quantity::Bytes(limits.memory_bytes),
                },
            );
        }
        if limits.nano_cpus > 0 && res.nano_cpus > limits.nano_cpus {
            r.push(
                format!("{path}.reservations.nano_cpus"),
                Rule::ReservationAboveLimit {
                    reservation: Quantity::NanoCpus(res.nano_cpus),
                    limit: Quantity::NanoCpus(limits.nano_cpus),
                },
            );
        }
    }
}

fn check_amounts(r: &mut Report, path: &str, res: &Resources) {
    check_amount(
        r,
        format!("{path}.nano_cpus"),
        res.nano_cpus,
        MIN_NANO_CPUS,
        Quantity::NanoCpus,
    );
    check_amount(
        r,
        format!("{path}.memory_bytes"),
        res.memory_bytes,
        MIN_MEMORY_BYTES,
        Quantity::Bytes,
    );
}

/// An amount is 0 (unset) or at least `minimum`; never negative.
fn check_amount(
    r: &mut Report,
    field: String,
    value: i64,
    minimum: i64,
    quantity: fn(i64) -> Quantity,
) {
    if value < 0 {
        r.push(
            field,
            Rule::Negative {
                value: quantity(value),
            },
        );
    } else if value != 0 && value < minimum {
        r.push(
            field,
            Rule::BelowMinimum {
                value: quantity(value),
                minimum: quantity(minimum),
            },
        );
    }
}

fn check_generic_reservations(r: &mut Report, path: &str, generic: &[GenericResource]) {
    for (i, g) in generic.iter().enumerate() {
        let field = format!("{path}[{i}]");
        if g.kind().is_empty() {
            r.push(format!("{field}.kind"), Rule::Empty);
        } else if let Some(first) = generic[..i].iter().position(|e| e.kind() == g.kind()) {
            r.push(
                field.clone(),
                Rule::DuplicateGenericKind {
                    kind: g.kind().to_owned(),
                    first,
                },
            );
        }
        match g {
            GenericResource::Discrete { value, .. } if *value < 1 => r.push(
                format!("{field}.value"),
                Rule::BelowMinimum {
                    value: Quantity::Integer(*value),
                    minimum: Quantity::Integer(1),
                },
            ),
            GenericResource::Discrete { .. } => {}
            GenericResource::Named { kind, value } => r.push(
                field,
                Rule::NamedGenericReservation {
                    kind: kind.clone(),
                    value: value.clone(),
                },
            ),
        }
    }
}

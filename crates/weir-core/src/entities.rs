//! The built-in entity catalogue of the domain (commerce, billing, CRM): what an event is
//! about, its fields, and the events about it. Agents read it from the capabilities endpoint
//! and the interpreter maps words to it; workflows may use any other field or event too.

/// An entity of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity {
    pub name: &'static str,
    /// Field names; `items[sku, qty, price]` is a list whose items have those fields.
    pub fields: &'static [&'static str],
    pub events: &'static [&'static str],
}

/// What a workflow may decide or do about any entity.
pub const ENTITY_ACTIONS: &[&str] = &["allow", "block", "require_approval", "notify", "webhook"];

pub const ENTITIES: &[Entity] = &[
    Entity {
        name: "order",
        fields: &[
            "id",
            "total",
            "currency",
            "status",
            "country",
            "customer_id",
            "items[sku, qty, price]",
        ],
        events: &[
            "order.created",
            "order.checkout.initiated",
            "order.updated",
            "order.paid",
            "order.cancelled",
        ],
    },
    Entity {
        name: "customer",
        fields: &[
            "id",
            "email",
            "tier",
            "country",
            "created_at",
            "orders_count",
            "lifetime_value",
        ],
        events: &["customer.created", "customer.updated"],
    },
    Entity {
        name: "cart",
        fields: &["id", "total", "items_count"],
        events: &["cart.item.added", "cart.checkout.started"],
    },
    Entity {
        name: "product",
        fields: &["id", "sku", "price", "inventory", "category"],
        events: &["product.price.changed", "product.inventory.low"],
    },
    Entity {
        name: "quote",
        fields: &["id", "amount", "discount_percent"],
        events: &["quote.requested"],
    },
    Entity {
        name: "lead",
        fields: &["id", "score", "source", "status"],
        events: &["lead.created", "lead.updated"],
    },
    Entity {
        name: "deal",
        fields: &["id", "amount", "stage"],
        events: &["deal.stage_changed", "deal.won"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_about_its_entity() {
        for e in ENTITIES {
            assert!(e.fields.contains(&"id"), "{}", e.name);
            for ev in e.events {
                assert!(ev.starts_with(&format!("{}.", e.name)), "{ev}");
            }
        }
    }
}

//! The domain's vocabulary: the entity catalogue (fields and the words for them, events and the
//! verbs that announce them), and the values people name (tiers, countries, currencies, lead
//! sources, deal stages, time zones).

use serde::{Deserialize, Serialize};

/// What kind of value a field holds: it decides which phrases can test it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Money,
    Number,
    Count,
    Percent,
    Text,
    Code,
    Email,
    Time,
    List,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// Phrases that name the field, longest first when matched.
    pub words: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct EventWords {
    /// The event type, e.g. `order.created`.
    pub event: String,
    /// Verbs or nouns near the entity that announce the event ("placed", "comes in").
    pub words: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Entity {
    pub name: String,
    /// Nouns that mean the entity, singular and plural.
    pub nouns: Vec<String>,
    pub fields: Vec<Field>,
    pub events: Vec<EventWords>,
    /// The event a rule about this entity listens to when the prompt names none: the first for
    /// a decision (allow, block, approval), the second otherwise.
    pub default_events: (String, String),
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field a bare number about this entity means ("orders over 5000", "leads above 80").
    pub fn default_number(&self) -> Option<&Field> {
        self.first_of(&[FieldKind::Money, FieldKind::Number, FieldKind::Count])
    }

    pub fn money(&self) -> Option<&Field> {
        self.first_of(&[FieldKind::Money])
    }

    pub fn first_of(&self, kinds: &[FieldKind]) -> Option<&Field> {
        kinds
            .iter()
            .find_map(|k| self.fields.iter().find(|f| f.kind == *k))
    }
}

/// An entity a tenant adds to the catalogue through [`crate::InterpretContext`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntitySpec {
    pub name: String,
    #[serde(default)]
    pub fields: Vec<String>,
    /// Event types, e.g. `invoice.disputed`; the last segment is the verb that announces it.
    #[serde(default)]
    pub events: Vec<String>,
}

/// The entity catalogue in use: the built-in one plus any given in the context.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub entities: Vec<Entity>,
}

fn words(list: &str) -> Vec<String> {
    list.split(',')
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

fn field(name: &str, kind: FieldKind, list: &str) -> Field {
    Field {
        name: name.to_owned(),
        kind,
        words: words(list),
    }
}

fn event(event: &str, list: &str) -> EventWords {
    EventWords {
        event: event.to_owned(),
        words: words(list),
    }
}

fn entity(
    name: &str,
    nouns: &str,
    fields: Vec<Field>,
    events: Vec<EventWords>,
    defaults: (&str, &str),
) -> Entity {
    Entity {
        name: name.to_owned(),
        nouns: words(nouns),
        fields,
        events,
        default_events: (defaults.0.to_owned(), defaults.1.to_owned()),
    }
}

impl Lexicon {
    /// The built-in catalogue of issue 18 (order, customer, cart, product, quote, lead, deal)
    /// with the billing entities a wait or a CRM rule names (invoice, subscription, payment).
    pub fn builtin() -> Self {
        use FieldKind::*;
        let entities = vec![
            entity(
                "order",
                "order, orders, purchase, purchases, checkout, checkouts, transaction, transactions",
                vec![
                    field(
                        "total",
                        Money,
                        "order total, order value, order amount, total, amount, value, subtotal, worth, spend",
                    ),
                    field("currency", Code, "currency"),
                    field("status", Text, "order status, status"),
                    field(
                        "country",
                        Code,
                        "shipping country, destination country, ship-to country, delivery country, country, destination",
                    ),
                    field("customer_id", Text, "customer id"),
                    field("items", List, "items, line items, products, units"),
                ],
                vec![
                    event(
                        "order.checkout.initiated",
                        "checkout, checkouts, checks out, check out, checking out",
                    ),
                    event(
                        "order.created",
                        "placed, place, places, placing, created, submitted, made, comes in, come in, received, new, spends, spend, buys, buy",
                    ),
                    event("order.cancelled", "cancelled, canceled, is cancelled"),
                    event("order.updated", "updated, changed, modified, edited"),
                    event("order.paid", "paid, pays, is paid"),
                    event("order.shipped", "shipped, ships, ship, dispatched"),
                    event("order.refunded", "refunded"),
                    event("order.delivered", "delivered"),
                ],
                ("order.checkout.initiated", "order.created"),
            ),
            entity(
                "customer",
                "customer, customers, signup, signups, sign-up, sign-ups, account, accounts, buyer, buyers, shopper, shoppers, user, users, client, clients, member, members",
                vec![
                    field(
                        "email",
                        Email,
                        "email address, email, e-mail, address, domain",
                    ),
                    field("tier", Text, "tier, loyalty tier, level"),
                    field("country", Code, "country"),
                    field("created_at", Time, "created, signup date"),
                    field(
                        "orders_count",
                        Count,
                        "order count, number of orders, orders, previous orders, past orders, prior orders, purchases",
                    ),
                    field(
                        "lifetime_value",
                        Money,
                        "lifetime value, ltv, clv, total spend, spent, lifetime spend",
                    ),
                ],
                vec![
                    event(
                        "customer.created",
                        "signs up, sign up, signed up, signup, signups, sign-up, sign-ups, registers, register, registered, registration, joins, joined, created, is created, creates an account",
                    ),
                    event("customer.updated", "updated, changed"),
                ],
                ("customer.created", "customer.created"),
            ),
            entity(
                "cart",
                "cart, carts, basket, baskets",
                vec![
                    field(
                        "total",
                        Money,
                        "cart total, cart value, total, value, amount, worth",
                    ),
                    field(
                        "items_count",
                        Count,
                        "items, item count, products, line items",
                    ),
                ],
                vec![
                    event("cart.abandoned", "abandoned, abandons, left"),
                    event(
                        "cart.checkout.started",
                        "checkout starts, checkout begins, starts checkout, begins checkout, checkout, checkouts",
                    ),
                    event(
                        "cart.item.added",
                        "added to the cart, added to cart, added to their cart, item added, items added, added, adds, add to cart",
                    ),
                ],
                ("cart.checkout.started", "cart.item.added"),
            ),
            entity(
                "product",
                "product, products, item, sku, skus",
                vec![
                    field("sku", Code, "sku"),
                    // Of an order's line (order.items[].qty), read as `item.qty`.
                    field("qty", Count, "qty, quantity, quantity ordered"),
                    field("price", Money, "price, cost"),
                    field(
                        "inventory",
                        Count,
                        "inventory, stock, stock level, units, units in stock",
                    ),
                    field("category", Text, "category"),
                ],
                vec![
                    event(
                        "product.inventory.low",
                        "runs low, running low, low on stock, low stock, stock is low, inventory is low, stock drops, inventory drops, drops, falls, runs out, out of stock, low inventory, low",
                    ),
                    event(
                        "product.price.changed",
                        "price changes, price changed, price change, price drops, price increases, price goes, repriced",
                    ),
                    event("product.created", "created, added, new"),
                ],
                ("product.inventory.low", "product.inventory.low"),
            ),
            entity(
                "quote",
                "quote, quotes, quotation, quotations",
                vec![
                    field("amount", Money, "amount, value, total, worth"),
                    field(
                        "discount_percent",
                        Percent,
                        "discount, discount percent, discount percentage",
                    ),
                ],
                vec![
                    event(
                        "quote.requested",
                        "requested, request, requests, comes in, come in, submitted, created, new, asked for",
                    ),
                    event("quote.accepted", "accepted, signed"),
                ],
                ("quote.requested", "quote.requested"),
            ),
            entity(
                "lead",
                "lead, leads, prospect, prospects",
                vec![
                    field(
                        "score",
                        Number,
                        "lead score, score, scoring, scores, scored",
                    ),
                    field("source", Text, "source, lead source, channel"),
                    field("status", Text, "status"),
                    field("email", Email, "email, email address"),
                    field("owner", Text, "owner"),
                ],
                vec![
                    event(
                        "lead.created",
                        "comes in, come in, created, arrives, arrive, submitted, captured, new, is created, signs up",
                    ),
                    event("lead.converted", "converted, converts"),
                    event(
                        "lead.updated",
                        "updated, changes, changed, goes, rises, reaches, hits, is updated, increases, drops",
                    ),
                ],
                ("lead.created", "lead.created"),
            ),
            entity(
                "deal",
                "deal, deals, opportunity, opportunities, opp, opps",
                vec![
                    field(
                        "amount",
                        Money,
                        "amount, value, size, worth, deal size, deal value",
                    ),
                    field("stage", Text, "stage, deal stage, pipeline stage"),
                    field("owner", Text, "owner"),
                ],
                vec![
                    event(
                        "deal.won",
                        "won, closes, closed, close, closed won, is won, wins",
                    ),
                    event("deal.lost", "lost, is lost, closed lost"),
                    event(
                        "deal.stage_changed",
                        "moves, moved, reaches, enters, stage changes, changes stage, advances, goes, moves to, stage",
                    ),
                    event("deal.created", "created, new, opened"),
                ],
                ("deal.stage_changed", "deal.stage_changed"),
            ),
            entity(
                "invoice",
                "invoice, invoices, bill, bills",
                vec![
                    field("amount", Money, "amount, total, value, balance, worth"),
                    field("status", Text, "status"),
                    field("due_date", Time, "due date"),
                ],
                vec![
                    event(
                        "invoice.overdue",
                        "overdue, becomes overdue, goes overdue, past due, is overdue",
                    ),
                    event("invoice.paid", "paid, is paid"),
                    event("invoice.created", "created, issued, sent, new"),
                ],
                ("invoice.created", "invoice.created"),
            ),
            entity(
                "subscription",
                "subscription, subscriptions, plan, plans",
                vec![
                    field(
                        "mrr",
                        Money,
                        "mrr, amount, value, monthly value, worth, price",
                    ),
                    field("plan", Text, "plan"),
                    field("status", Text, "status"),
                ],
                vec![
                    event(
                        "subscription.cancelled",
                        "cancelled, canceled, churns, ends, is cancelled",
                    ),
                    event("subscription.renewed", "renewed, renews"),
                    event("subscription.created", "created, starts, started, new"),
                ],
                ("subscription.created", "subscription.created"),
            ),
            entity(
                "payment",
                "payment, payments, charge, charges",
                vec![
                    field("amount", Money, "amount, value"),
                    field("status", Text, "status"),
                    field("order_id", Text, "order id"),
                ],
                vec![
                    event(
                        "payment.failed",
                        "fails, failed, declined, bounces, bounced, is declined",
                    ),
                    event(
                        "payment.received",
                        "received, arrives, arrive, succeeds, succeeded, comes in, is received",
                    ),
                ],
                ("payment.received", "payment.received"),
            ),
        ];
        Lexicon { entities }
    }

    /// The built-in catalogue extended with a tenant's entities (a spec naming a built-in entity
    /// adds fields and events to it).
    pub fn with(specs: &[EntitySpec]) -> Self {
        let mut lex = Lexicon::builtin();
        for spec in specs {
            let name = spec.name.trim().to_ascii_lowercase();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let fields: Vec<Field> = spec
                .fields
                .iter()
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let f = f.trim().to_ascii_lowercase();
                    let kind = guess_kind(&f);
                    Field {
                        words: vec![f.replace('_', " ")],
                        name: f,
                        kind,
                    }
                })
                .collect();
            let events: Vec<EventWords> = spec
                .events
                .iter()
                .filter(|e| e.starts_with(&format!("{name}.")))
                .map(|e| {
                    let verb = e.rsplit('.').next().unwrap_or_default().replace('_', " ");
                    EventWords {
                        event: e.clone(),
                        words: vec![verb],
                    }
                })
                .collect();
            if let Some(existing) = lex.entities.iter_mut().find(|e| e.name == name) {
                for f in fields {
                    if existing.field(&f.name).is_none() {
                        existing.fields.push(f);
                    }
                }
                existing.events.extend(events);
                continue;
            }
            let first = events
                .first()
                .map(|e| e.event.clone())
                .unwrap_or_else(|| format!("{name}.created"));
            lex.entities.push(Entity {
                nouns: vec![
                    name.replace('_', " "),
                    format!("{}s", name.replace('_', " ")),
                ],
                name,
                fields,
                events,
                default_events: (first.clone(), first),
            });
        }
        lex
    }

    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }
}

fn guess_kind(field: &str) -> FieldKind {
    let f = field;
    if [
        "amount", "total", "price", "value", "revenue", "mrr", "arr", "balance",
    ]
    .iter()
    .any(|w| f.contains(w))
    {
        FieldKind::Money
    } else if f.contains("percent") {
        FieldKind::Percent
    } else if f.ends_with("_at") || f.ends_with("date") {
        FieldKind::Time
    } else if f.contains("email") {
        FieldKind::Email
    } else if f.ends_with("count") || f.contains("score") || f.contains("qty") {
        FieldKind::Number
    } else {
        FieldKind::Text
    }
}

/// A value people name without the field, and the field it belongs to. `entity` empty means
/// "the entity the phrase is about" (countries, currencies).
pub struct ValueWord {
    pub phrase: &'static str,
    pub value: &'static str,
    pub entity: &'static str,
    pub field: &'static str,
}

const fn vw(
    phrase: &'static str,
    value: &'static str,
    entity: &'static str,
    field: &'static str,
) -> ValueWord {
    ValueWord {
        phrase,
        value,
        entity,
        field,
    }
}

/// Named values: customer tiers, lead sources and statuses, deal stages, product categories.
pub const VALUES: &[ValueWord] = &[
    vw("bronze", "bronze", "customer", "tier"),
    vw("silver", "silver", "customer", "tier"),
    vw("gold", "gold", "customer", "tier"),
    vw("platinum", "platinum", "customer", "tier"),
    vw("diamond", "diamond", "customer", "tier"),
    vw("vip", "vip", "customer", "tier"),
    vw("vips", "vip", "customer", "tier"),
    vw("website", "website", "lead", "source"),
    vw("web site", "website", "lead", "source"),
    vw("web form", "website", "lead", "source"),
    vw("site", "website", "lead", "source"),
    vw("referral", "referral", "lead", "source"),
    vw("referrals", "referral", "lead", "source"),
    vw("linkedin", "linkedin", "lead", "source"),
    vw("google", "google", "lead", "source"),
    vw("google ads", "google_ads", "lead", "source"),
    vw("ads", "ads", "lead", "source"),
    vw("paid ads", "ads", "lead", "source"),
    vw("facebook", "facebook", "lead", "source"),
    vw("partner", "partner", "lead", "source"),
    vw("partners", "partner", "lead", "source"),
    vw("webinar", "webinar", "lead", "source"),
    vw("webinars", "webinar", "lead", "source"),
    vw("trade show", "trade_show", "lead", "source"),
    vw("trade shows", "trade_show", "lead", "source"),
    vw("events", "event", "lead", "source"),
    vw("organic", "organic", "lead", "source"),
    vw("inbound", "inbound", "lead", "source"),
    vw("outbound", "outbound", "lead", "source"),
    vw("cold call", "cold_call", "lead", "source"),
    vw("qualified", "qualified", "lead", "status"),
    vw("unqualified", "unqualified", "lead", "status"),
    vw("prospecting", "prospecting", "deal", "stage"),
    vw("discovery", "discovery", "deal", "stage"),
    vw("qualification", "qualification", "deal", "stage"),
    vw("demo", "demo", "deal", "stage"),
    vw("proposal", "proposal", "deal", "stage"),
    vw("negotiation", "negotiation", "deal", "stage"),
    vw("negotiations", "negotiation", "deal", "stage"),
    vw("contract", "contract", "deal", "stage"),
    vw("closed won", "closed_won", "deal", "stage"),
    vw("closed lost", "closed_lost", "deal", "stage"),
    vw("electronics", "electronics", "product", "category"),
    vw("clothing", "clothing", "product", "category"),
    vw("apparel", "apparel", "product", "category"),
    vw("books", "books", "product", "category"),
    vw("toys", "toys", "product", "category"),
    vw("furniture", "furniture", "product", "category"),
    vw("garden", "garden", "product", "category"),
    vw("beauty", "beauty", "product", "category"),
    vw("grocery", "grocery", "product", "category"),
    vw("groceries", "grocery", "product", "category"),
    vw("jewelry", "jewelry", "product", "category"),
    vw("jewellery", "jewelry", "product", "category"),
    vw("sports", "sports", "product", "category"),
    vw("shoes", "shoes", "product", "category"),
];

/// Currency codes and words.
pub const CURRENCIES: &[(&str, &str)] = &[
    ("usd", "USD"),
    ("eur", "EUR"),
    ("gbp", "GBP"),
    ("cad", "CAD"),
    ("aud", "AUD"),
    ("jpy", "JPY"),
    ("chf", "CHF"),
    ("sek", "SEK"),
    ("nok", "NOK"),
    ("dkk", "DKK"),
    ("inr", "INR"),
    ("brl", "BRL"),
    ("mxn", "MXN"),
    ("cny", "CNY"),
    ("euro", "EUR"),
    ("euros", "EUR"),
    ("pounds", "GBP"),
    ("sterling", "GBP"),
    ("yen", "JPY"),
];

/// Country names and the ISO 3166 codes orders and customers carry.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("united states", "US"),
    ("united states of america", "US"),
    ("usa", "US"),
    ("america", "US"),
    ("canada", "CA"),
    ("mexico", "MX"),
    ("brazil", "BR"),
    ("argentina", "AR"),
    ("chile", "CL"),
    ("colombia", "CO"),
    ("peru", "PE"),
    ("venezuela", "VE"),
    ("cuba", "CU"),
    ("united kingdom", "GB"),
    ("great britain", "GB"),
    ("britain", "GB"),
    ("uk", "GB"),
    ("england", "GB"),
    ("ireland", "IE"),
    ("france", "FR"),
    ("germany", "DE"),
    ("spain", "ES"),
    ("portugal", "PT"),
    ("italy", "IT"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("holland", "NL"),
    ("belgium", "BE"),
    ("luxembourg", "LU"),
    ("switzerland", "CH"),
    ("austria", "AT"),
    ("poland", "PL"),
    ("czechia", "CZ"),
    ("czech republic", "CZ"),
    ("sweden", "SE"),
    ("norway", "NO"),
    ("denmark", "DK"),
    ("finland", "FI"),
    ("iceland", "IS"),
    ("greece", "GR"),
    ("turkey", "TR"),
    ("russia", "RU"),
    ("belarus", "BY"),
    ("ukraine", "UA"),
    ("romania", "RO"),
    ("hungary", "HU"),
    ("bulgaria", "BG"),
    ("serbia", "RS"),
    ("iran", "IR"),
    ("iraq", "IQ"),
    ("syria", "SY"),
    ("lebanon", "LB"),
    ("israel", "IL"),
    ("saudi arabia", "SA"),
    ("united arab emirates", "AE"),
    ("uae", "AE"),
    ("qatar", "QA"),
    ("egypt", "EG"),
    ("morocco", "MA"),
    ("nigeria", "NG"),
    ("ghana", "GH"),
    ("kenya", "KE"),
    ("south africa", "ZA"),
    ("ethiopia", "ET"),
    ("sudan", "SD"),
    ("somalia", "SO"),
    ("libya", "LY"),
    ("india", "IN"),
    ("pakistan", "PK"),
    ("bangladesh", "BD"),
    ("china", "CN"),
    ("hong kong", "HK"),
    ("taiwan", "TW"),
    ("japan", "JP"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("north korea", "KP"),
    ("vietnam", "VN"),
    ("thailand", "TH"),
    ("singapore", "SG"),
    ("malaysia", "MY"),
    ("indonesia", "ID"),
    ("philippines", "PH"),
    ("afghanistan", "AF"),
    ("myanmar", "MM"),
    ("australia", "AU"),
    ("new zealand", "NZ"),
];

/// Two-letter codes accepted when written in capitals ("KP or IR", "the US, CA or MX").
pub const COUNTRY_CODES: &[&str] = &[
    "US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "VE", "CU", "GB", "UK", "IE", "FR", "DE", "ES",
    "PT", "IT", "NL", "BE", "LU", "CH", "AT", "PL", "CZ", "SE", "NO", "DK", "FI", "GR", "TR", "RU",
    "BY", "UA", "RO", "HU", "BG", "RS", "IR", "IQ", "SY", "LB", "IL", "SA", "AE", "QA", "EG", "MA",
    "NG", "GH", "KE", "ZA", "ET", "SD", "SO", "LY", "IN", "PK", "BD", "CN", "HK", "TW", "JP", "KR",
    "KP", "VN", "TH", "SG", "MY", "ID", "PH", "AF", "MM", "AU", "NZ", "EU",
];

/// Time zone phrases and their IANA names.
pub const TIMEZONES: &[(&str, &str)] = &[
    ("utc", "UTC"),
    ("gmt", "UTC"),
    ("zulu", "UTC"),
    ("new york time", "America/New_York"),
    ("new york", "America/New_York"),
    ("eastern time", "America/New_York"),
    ("eastern", "America/New_York"),
    ("et", "America/New_York"),
    ("est", "America/New_York"),
    ("edt", "America/New_York"),
    ("central time", "America/Chicago"),
    ("chicago", "America/Chicago"),
    ("cst", "America/Chicago"),
    ("cdt", "America/Chicago"),
    ("mountain time", "America/Denver"),
    ("denver", "America/Denver"),
    ("mst", "America/Denver"),
    ("pacific time", "America/Los_Angeles"),
    ("pacific", "America/Los_Angeles"),
    ("pt", "America/Los_Angeles"),
    ("pst", "America/Los_Angeles"),
    ("pdt", "America/Los_Angeles"),
    ("los angeles", "America/Los_Angeles"),
    ("san francisco", "America/Los_Angeles"),
    ("london", "Europe/London"),
    ("uk time", "Europe/London"),
    ("bst", "Europe/London"),
    ("paris", "Europe/Paris"),
    ("cet", "Europe/Paris"),
    ("cest", "Europe/Paris"),
    ("berlin", "Europe/Berlin"),
    ("madrid", "Europe/Madrid"),
    ("amsterdam", "Europe/Amsterdam"),
    ("tokyo", "Asia/Tokyo"),
    ("jst", "Asia/Tokyo"),
    ("singapore time", "Asia/Singapore"),
    ("sydney", "Australia/Sydney"),
    ("aest", "Australia/Sydney"),
    ("india time", "Asia/Kolkata"),
    ("ist", "Asia/Kolkata"),
];

/// Words for quantities written out ("two days", "a week").
pub fn number_word(w: &str) -> Option<f64> {
    Some(match w {
        "a" | "an" | "one" => 1.0,
        "two" | "couple" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" => 12.0,
        "fifteen" => 15.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty-five" => 45.0,
        "sixty" => 60.0,
        "ninety" => 90.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_entity_has_a_default_number_or_text_field_and_events() {
        let lex = Lexicon::builtin();
        for e in &lex.entities {
            assert!(!e.events.is_empty(), "{}", e.name);
            assert!(!e.fields.is_empty(), "{}", e.name);
        }
        assert_eq!(
            lex.entity("order")
                .and_then(Entity::money)
                .map(|f| f.name.as_str()),
            Some("total")
        );
        assert_eq!(
            lex.entity("lead")
                .and_then(Entity::default_number)
                .map(|f| f.name.as_str()),
            Some("score")
        );
    }

    #[test]
    fn a_context_entity_is_added_with_its_fields_and_events() {
        let lex = Lexicon::with(&[EntitySpec {
            name: "ticket".into(),
            fields: vec!["priority".into(), "sla_hours".into()],
            events: vec!["ticket.escalated".into()],
        }]);
        let t = lex.entity("ticket").expect("added");
        assert_eq!(t.default_events.0, "ticket.escalated");
        assert!(t.field("priority").is_some());
        assert_eq!(t.events[0].words, vec!["escalated".to_owned()]);
    }
}

//! The condition recognizers: thresholds ("over $5,000", "at least 80", "between 1,000 and
//! 5,000", "10% or less", "250k+"), sets of named values ("gold or platinum", "the US, CA or
//! MX", "non-US"), string tests ("ends with @tempmail.com", "contains 'test'"), e-mail domains,
//! comparisons of two fields, and "FIELD is VALUE". Fields are read from the words around the
//! value: a field named just before ("score", "lifetime value"), the unit after the number
//! ("5 orders", "20 items"), the kind of number (money, percent) and the entity being talked
//! about.

use serde_json::{Value, json};

use crate::lexicon::{COUNTRIES, COUNTRY_CODES, CURRENCIES, FieldKind, VALUES};
use crate::parse::{DETERMINERS, Parser, STOP, What};
use crate::plan::Cond;
use crate::token::Kind;

/// A field of an entity, as a condition reads it (`entity.field`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldRef {
    pub entity: String,
    pub name: String,
    pub kind: FieldKind,
}

impl FieldRef {
    pub fn path(&self) -> String {
        format!("{}.{}", self.entity, self.name)
    }

    fn numeric(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Money
                | FieldKind::Number
                | FieldKind::Count
                | FieldKind::Percent
                | FieldKind::List
        )
    }

    fn textual(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Text | FieldKind::Code | FieldKind::Email
        )
    }
}

const PREFIX_OPS: &[(&str, &str)] = &[
    ("more than", "gt"),
    ("greater than", "gt"),
    ("larger than", "gt"),
    ("bigger than", "gt"),
    ("higher than", "gt"),
    ("over", "gt"),
    ("above", "gt"),
    ("exceeding", "gt"),
    ("exceeds", "gt"),
    ("exceed", "gt"),
    ("in excess of", "gt"),
    ("upwards of", "gt"),
    ("north of", "gt"),
    ("beyond", "gt"),
    ("> =", "gte"),
    (">", "gt"),
    ("at least", "gte"),
    ("reaches", "gte"),
    ("hits", "gte"),
    ("no less than", "gte"),
    ("not less than", "gte"),
    ("a minimum of", "gte"),
    ("minimum of", "gte"),
    ("≥", "gte"),
    ("less than", "lt"),
    ("fewer than", "lt"),
    ("lower than", "lt"),
    ("smaller than", "lt"),
    ("under", "lt"),
    ("below", "lt"),
    ("beneath", "lt"),
    ("< =", "lte"),
    ("<", "lt"),
    ("at most", "lte"),
    ("no more than", "lte"),
    ("not more than", "lte"),
    ("up to", "lte"),
    ("a maximum of", "lte"),
    ("maximum of", "lte"),
    ("≤", "lte"),
    ("exactly", "eq"),
    ("equal to", "eq"),
    ("equals", "eq"),
    ("=", "eq"),
];

const POSTFIX_OPS: &[(&str, &str)] = &[
    ("or more", "gte"),
    ("or above", "gte"),
    ("or higher", "gte"),
    ("or greater", "gte"),
    ("or over", "gte"),
    ("and above", "gte"),
    ("and up", "gte"),
    ("and over", "gte"),
    ("or less", "lte"),
    ("or fewer", "lte"),
    ("or below", "lte"),
    ("or lower", "lte"),
    ("or under", "lte"),
    ("and below", "lte"),
    ("and under", "lte"),
    ("and less", "lte"),
];

const STRING_OPS: &[(&str, &str, bool)] = &[
    ("ends with", "endswith", false),
    ("ending with", "endswith", false),
    ("ending in", "endswith", false),
    ("ends in", "endswith", false),
    ("end with", "endswith", false),
    ("end in", "endswith", false),
    ("doesn't end with", "endswith", true),
    ("does not end with", "endswith", true),
    ("starts with", "startswith", false),
    ("starting with", "startswith", false),
    ("begins with", "startswith", false),
    ("beginning with", "startswith", false),
    ("start with", "startswith", false),
    ("begin with", "startswith", false),
    ("prefixed with", "startswith", false),
    ("doesn't start with", "startswith", true),
    ("does not start with", "startswith", true),
    ("contains", "contains", false),
    ("containing", "contains", false),
    ("contain", "contains", false),
    ("includes", "contains", false),
    ("doesn't contain", "contains", true),
    ("does not contain", "contains", true),
    ("not containing", "contains", true),
    ("matches", "matches", false),
    ("matching", "matches", false),
];

/// Nouns after a number that name what is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Orders,
    Items,
    Units,
    Points,
}

fn number_value(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn currency_code(w: &str) -> Option<&'static str> {
    CURRENCIES.iter().find(|(n, _)| *n == w).map(|(_, c)| *c)
}

impl Parser<'_> {
    /// The entity conditions are about when nothing nearer is named: the trigger's, else the
    /// first entity mentioned outside an action's arguments.
    pub(crate) fn primary_entity(&self) -> Option<String> {
        if let Some(p) = &self.primary {
            return p.clone();
        }
        if let Some(e) = self.events.first() {
            return Some(e.entity.clone());
        }
        // Customers mostly qualify something else ("orders from new customers", "first-time
        // buyers' orders"): another entity named beside them is what the rule is about.
        let free: Vec<&(usize, String)> = self
            .mentions
            .iter()
            .filter(|(at, _)| self.free(*at))
            .collect();
        free.iter()
            .find(|(_, e)| e != "customer")
            .or_else(|| free.first())
            .map(|(_, e)| e.clone())
            .or_else(|| self.mentions.first().map(|(_, e)| e.clone()))
    }

    pub(crate) fn conditions(&mut self) {
        let primary = self.primary_entity().unwrap_or_else(|| "order".into());
        let mut cur_entity = primary.clone();
        let mut cur_field: Option<FieldRef> = None;
        let mut i = 0;
        while i < self.len() {
            if self.is_punct(i) && matches!(self.t[i].raw.as_str(), "." | ";" | "!" | "?" | "\n") {
                cur_field = None;
                cur_entity = primary.clone();
            }
            if let Some((_, e)) = self.mentions.iter().find(|(at, _)| *at == i) {
                if *e != cur_entity {
                    cur_field = None;
                }
                cur_entity = e.clone();
            }
            if !self.free(i) {
                i += 1;
                continue;
            }
            let found = self
                .between_at(i, &cur_entity, &cur_field)
                .or_else(|| self.field_compare_at(i, &cur_field))
                .or_else(|| self.prefix_compare_at(i, &cur_entity, &cur_field))
                .or_else(|| self.postfix_compare_at(i, &cur_entity, &cur_field))
                .or_else(|| self.string_test_at(i, &cur_entity, &cur_field))
                .or_else(|| self.values_at(i, &cur_entity))
                .or_else(|| self.domains_at(i, &cur_entity))
                .or_else(|| self.field_is_at(i, &cur_field));
            if let Some((cond, end, field)) = found {
                self.take(i, end);
                self.push(i, What::Cond(cond));
                if field.is_some() {
                    cur_field = field;
                }
                i = end;
                continue;
            }
            if let Some((field, end)) = self.field_at(i, &cur_entity) {
                self.take(i, end);
                cur_entity = field.entity.clone();
                cur_field = Some(field);
                i = end;
                continue;
            }
            i += 1;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Fields

    /// A field named at `i`: "lifetime value", "the order total", "customer's country",
    /// "score". Unit nouns ("orders", "items") are read after numbers instead.
    pub(crate) fn field_at(&self, i: usize, cur_entity: &str) -> Option<(FieldRef, usize)> {
        let unit_only = [
            "orders",
            "purchases",
            "items",
            "products",
            "units",
            "line items",
            "worth",
        ];
        // "the order total", "the customer's lifetime value", "lead score".
        if let Some(e) = self.entity_noun(i) {
            for f in &e.fields {
                for w in &f.words {
                    if let Some(k) = self.at(i + 1, w) {
                        return Some((self.fref(&e.name, &f.name), i + 1 + k));
                    }
                }
            }
        }
        let mut order: Vec<String> = vec![cur_entity.to_owned()];
        if let Some(p) = self.primary_entity() {
            order.push(p);
        }
        for (_, e) in &self.mentions {
            order.push(e.clone());
        }
        let in_play = order.len();
        for e in &self.lex.entities {
            order.push(e.name.clone());
        }
        // Words every entity uses name a field of the entities in play only.
        let generic = [
            "amount", "value", "total", "worth", "status", "country", "email", "price", "owner",
            "created", "plan", "level", "address", "domain", "channel", "cost", "size",
        ];
        let mut best: Option<(usize, FieldRef)> = None;
        for (n, name) in order.iter().enumerate() {
            let Some(e) = self.lex.entity(name) else {
                continue;
            };
            for f in &e.fields {
                for w in &f.words {
                    if unit_only.contains(&w.as_str()) && w != "worth"
                        || (n >= in_play && generic.contains(&w.as_str()))
                    {
                        continue;
                    }
                    if let Some(k) = self.at(i, w)
                        && best.as_ref().is_none_or(|(bk, _)| k > *bk)
                    {
                        best = Some((k, self.fref(&e.name, &f.name)));
                    }
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.map(|(k, f)| (f, i + k))
    }

    fn fref(&self, entity: &str, field: &str) -> FieldRef {
        let kind = self
            .lex
            .entity(entity)
            .and_then(|e| e.field(field))
            .map_or(FieldKind::Text, |f| f.kind);
        FieldRef {
            entity: entity.to_owned(),
            name: field.to_owned(),
            kind,
        }
    }

    /// What a number is compared with: the unit after it, else the field just named, else by
    /// its kind (money, percent) and the entity being talked about.
    fn numeric_field(
        &self,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
        money: bool,
        percent: bool,
        unit: Option<Unit>,
    ) -> Option<FieldRef> {
        match unit {
            Some(Unit::Orders) => return Some(self.fref("customer", "orders_count")),
            Some(Unit::Items) => {
                return Some(match cur_entity {
                    "order" => self.fref("order", "items"),
                    "cart" => self.fref("cart", "items_count"),
                    _ if self.in_play("cart") => self.fref("cart", "items_count"),
                    _ => self.fref("order", "items"),
                });
            }
            Some(Unit::Units) => {
                return Some(if cur_entity == "product" || self.in_play("product") {
                    self.fref("product", "inventory")
                } else {
                    self.fref("order", "items")
                });
            }
            Some(Unit::Points) => return Some(self.fref("lead", "score")),
            None => {}
        }
        if let Some(f) = cur_field.as_ref().filter(|f| f.numeric()) {
            let fits = if money {
                matches!(f.kind, FieldKind::Money | FieldKind::Number)
            } else if percent {
                matches!(f.kind, FieldKind::Percent | FieldKind::Number)
            } else {
                true
            };
            if fits {
                return Some(f.clone());
            }
        }
        let in_play: Vec<String> = std::iter::once(cur_entity.to_owned())
            .chain(self.primary_entity())
            .chain(self.mentions.iter().map(|(_, e)| e.clone()))
            .collect();
        let pick = |kinds: &[FieldKind]| {
            in_play.iter().find_map(|name| {
                let e = self.lex.entity(name)?;
                e.first_of(kinds).map(|f| self.fref(&e.name, &f.name))
            })
        };
        if percent {
            return pick(&[FieldKind::Percent])
                .or_else(|| Some(self.fref(cur_entity, "discount_percent")));
        }
        if money {
            return pick(&[FieldKind::Money]);
        }
        let e = self.lex.entity(cur_entity)?;
        e.default_number().map(|f| self.fref(&e.name, &f.name))
    }

    /// A unit noun after a number at `i`: its kind and length.
    fn unit_at(&self, i: usize) -> (Option<Unit>, usize) {
        let mut j = i;
        if matches!(
            self.low(j),
            "previous" | "past" | "prior" | "total" | "completed"
        ) {
            j += 1;
        }
        let unit = match self.low(j) {
            "orders" | "order" | "purchases" | "purchase" => Some(Unit::Orders),
            "items" | "item" | "products" | "skus" | "line" => Some(Unit::Items),
            "units" | "unit" | "pieces" | "left" => Some(Unit::Units),
            "points" | "pts" => Some(Unit::Points),
            _ => None,
        };
        match unit {
            Some(Unit::Items) if self.low(j) == "line" && self.low(j + 1) == "items" => {
                (unit, j + 2 - i)
            }
            Some(u) => (Some(u), j + 1 - i),
            None => (None, 0),
        }
    }

    /// The comparison of a number at `at` with operator `op`, the tokens it took (from `at`),
    /// and the field compared.
    fn number_cond(
        &self,
        at: usize,
        op: &'static str,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        let n = self.number(at)?;
        let mut end = at + 1;
        let mut money = n.money;
        let mut percent = n.percent;
        let mut currency = None;
        if self.free(end) {
            let w = self.low(end);
            if matches!(w, "dollars" | "bucks" | "usd") || self.t[end].raw == "USD" {
                money = true;
                end += 1;
            } else if let Some(code) = currency_code(w) {
                money = true;
                currency = Some(code);
                end += 1;
            } else if matches!(w, "percent" | "pct" | "%") {
                percent = true;
                end += 1;
            }
        }
        if !money && !percent && self.low(end) == "%" {
            percent = true;
            end += 1;
        }
        let (unit, ulen) = if money || percent {
            (None, 0)
        } else {
            self.unit_at(end)
        };
        end += ulen;
        // "5 days", "24 hours": a time, read elsewhere.
        if unit.is_none() && !money && !percent && crate::time::duration_at(&self.t, at).is_some() {
            return None;
        }
        // A number word alone is a quantity only with a unit ("five orders").
        if self.t[at].kind == Kind::Word && unit.is_none() {
            return None;
        }
        let field = self.numeric_field(cur_entity, cur_field, money, percent, unit)?;
        let v = n.value;
        let cond = if field.kind == FieldKind::List {
            items_count(&field.path(), op, v)?
        } else {
            Cond::cmp(field.path(), op, number_value(v))
        };
        let cond = match currency {
            Some(code)
                if self
                    .lex
                    .entity(&field.entity)
                    .and_then(|e| e.field("currency"))
                    .is_some() =>
            {
                Cond::And(vec![
                    Cond::cmp(format!("{}.currency", field.entity), "eq", code.into()),
                    cond,
                ])
            }
            _ => cond,
        };
        Some((cond, end, Some(field)))
    }

    fn prefix_compare_at(
        &self,
        i: usize,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        for (phrase, op) in PREFIX_OPS {
            let Some(k) = self.at(i, phrase) else {
                continue;
            };
            let mut j = i + k;
            // "over a total of", "more than about"
            if matches!(
                self.low(j),
                "about" | "around" | "roughly" | "approximately" | "a" | "an"
            ) {
                j += 1;
            }
            if let Some((cond, end, f)) = self.number_cond(j, op, cur_entity, cur_field) {
                // "10 or more" after a prefix is read as the prefix.
                // Not "below $1 or above $50,000": there a second threshold follows.
                let postfix = self
                    .at_any(
                        end,
                        &POSTFIX_OPS.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
                    )
                    .filter(|k| self.number(end + k).is_none())
                    .unwrap_or(0);
                return Some((cond, end + postfix, f));
            }
        }
        None
    }

    fn postfix_compare_at(
        &self,
        i: usize,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        let n = self.number(i)?;
        // Find where the number and its unit end, then the postfix.
        let (_, end, _) = self.number_cond(i, "gt", cur_entity, cur_field)?;
        for (phrase, op) in POSTFIX_OPS {
            if let Some(k) = self.at(end, phrase)
                && self.number(end + k).is_none()
            {
                let (cond, _, f) = self.number_cond(i, op, cur_entity, cur_field)?;
                return Some((cond, end + k, f));
            }
        }
        if n.plus {
            let (cond, _, f) = self.number_cond(i, "gte", cur_entity, cur_field)?;
            return Some((cond, end, f));
        }
        // "a total of $0", "a score of 75": a field just named, then the number.
        let prev = if i == 0 { "" } else { self.low(i - 1) };
        if cur_field.as_ref().is_some_and(FieldRef::numeric)
            && matches!(prev, "of" | "is" | "=" | "equals" | "at" | "to")
        {
            let (cond, _, f) = self.number_cond(i, "eq", cur_entity, cur_field)?;
            return Some((cond, end, f));
        }
        None
    }

    fn between_at(
        &self,
        i: usize,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        let k = self.at_any(i, &["between", "from"])?;
        let a = self.number(i + k)?;
        let sep = i + k + 1;
        let sep_len = self.at_any(sep, &["and", "to", "-", "–"])?;
        let b_at = sep + sep_len;
        let b = self.number(b_at)?;
        if self.low(i) == "from" && !(a.money || a.percent || cur_field.is_some()) {
            return None;
        }
        let money = a.money || b.money;
        let percent = a.percent || b.percent;
        let mut end = b_at + 1;
        if self.low(end) == "%" || self.low(end) == "percent" {
            end += 1;
        }
        let (unit, ulen) = if money || percent {
            (None, 0)
        } else {
            self.unit_at(end)
        };
        end += ulen;
        let field = self.numeric_field(cur_entity, cur_field, money, percent, unit)?;
        let (lo, hi) = if a.value <= b.value {
            (a.value, b.value)
        } else {
            (b.value, a.value)
        };
        let cond = if field.kind == FieldKind::List {
            Cond::all(vec![
                items_count(&field.path(), "gte", lo)?,
                items_count(&field.path(), "lte", hi)?,
            ])?
        } else {
            Cond::cmp(
                field.path(),
                "between",
                json!([number_value(lo), number_value(hi)]),
            )
        };
        Some((cond, end, Some(field)))
    }

    /// "the shipping country is different from the customer's country".
    fn field_compare_at(
        &self,
        i: usize,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        let f = cur_field.as_ref()?;
        let (k, op) = if let Some(k) = self.at_any(
            i,
            &[
                "?is different from|than",
                "differs from",
                "doesn't|does not match",
                "?is|isn't ?not the same as",
                "?is|isn't ?not equal to",
                "doesn't|does not equal",
                "mismatches",
            ],
        ) {
            (k, "ne")
        } else if let Some(k) = self.at_any(i, &["?is the same as", "matches"]) {
            (k, "eq")
        } else {
            return None;
        };
        // "isn't equal to" and "is not the same as" read as different.
        let mut j = i + k;
        while DETERMINERS.contains(&self.low(j)) {
            j += 1;
        }
        let (other, end) = self.field_at(j, &f.entity)?;
        if other == *f {
            return None;
        }
        let template = format!("{{{{{}}}}}", other.path());
        Some((
            Cond::cmp(f.path(), op, Value::String(template)),
            end,
            Some(f.clone()),
        ))
    }

    /// "email ends with @tempmail.com", "contains 'test'", "SKU starts with TEST-".
    fn string_test_at(
        &mut self,
        i: usize,
        cur_entity: &str,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        for (phrase, op, negated) in STRING_OPS {
            let Some(k) = self.at(i, phrase) else {
                continue;
            };
            let v = i + k;
            let t = self.t.get(v).filter(|_| self.free(v))?;
            let value = match t.kind {
                Kind::Quoted => t.raw.clone(),
                Kind::Email | Kind::Domain => t.low.clone(),
                Kind::Word
                    if !DETERMINERS.contains(&t.low.as_str())
                        && !STOP.contains(&t.low.as_str()) =>
                {
                    t.raw.clone()
                }
                Kind::Number => t.raw.clone(),
                _ => return None,
            };
            let looks_like_email = value.contains('@') || t.kind == Kind::Domain;
            let field = match cur_field.as_ref().filter(|f| f.textual()) {
                Some(f) => f.clone(),
                None if looks_like_email => self.email_field(cur_entity),
                None => {
                    let e = self.lex.entity(cur_entity)?;
                    let guess = e
                        .fields
                        .iter()
                        .find(|f| f.kind == FieldKind::Email)
                        .or_else(|| e.fields.iter().find(|f| f.kind == FieldKind::Code))?;
                    self.ask(format!(
                        "Which field should {} \"{value}\"? (it tests {}.{} for now)",
                        phrase
                            .replace("doesn't ", "not ")
                            .replace("does not ", "not "),
                        e.name,
                        guess.name
                    ));
                    self.fref(&e.name, &guess.name)
                }
            };
            let value = if *op == "matches" {
                escape_regex(&value)
            } else {
                value
            };
            let cond = Cond::cmp(field.path(), op, Value::String(value));
            let cond = if *negated {
                Cond::Not(Box::new(cond))
            } else {
                cond
            };
            return Some((cond, v + 1, Some(field)));
        }
        None
    }

    fn email_field(&self, cur_entity: &str) -> FieldRef {
        match self
            .lex
            .entity(cur_entity)
            .and_then(|e| e.fields.iter().find(|f| f.kind == FieldKind::Email))
        {
            Some(f) => self.fref(cur_entity, &f.name),
            None => self.fref("customer", "email"),
        }
    }

    /// Domains named alone: "emails from tempmail.com", "a yopmail.com address", "domains
    /// like tempmail.com and mailinator.com".
    fn domains_at(&self, i: usize, cur_entity: &str) -> Option<(Cond, usize, Option<FieldRef>)> {
        let is_domain = |k: usize| {
            self.free(k)
                && self.t.get(k).is_some_and(|t| {
                    t.kind == Kind::Domain || (t.kind == Kind::Email && t.raw.starts_with('@'))
                })
        };
        if !is_domain(i) {
            return None;
        }
        let field = self.email_field(cur_entity);
        let mut conds = Vec::new();
        let mut j = i;
        loop {
            let d = self.t[j].low.clone();
            let suffix = if d.starts_with('@') || d.starts_with('.') {
                d
            } else {
                format!("@{d}")
            };
            conds.push(Cond::cmp(field.path(), "endswith", Value::String(suffix)));
            j += 1;
            let sep = self.at_any(j, &["and", "or", ",", "and/or", ", or", ", and"]);
            match sep {
                Some(s) if is_domain(j + s) => j += s,
                _ => break,
            }
        }
        Some((Cond::any(conds)?, j, Some(field)))
    }

    /// A named value at `i`: (kind of field, canonical value, end). Countries and currencies
    /// name their field later.
    fn value_at(&self, i: usize) -> Option<(ValueField, String, usize)> {
        let t = self.t.get(i).filter(|_| self.free(i))?;
        if t.kind != Kind::Word {
            return None;
        }
        // Country codes in capitals: "KP", "US".
        if t.raw.len() == 2
            && t.raw.chars().all(|c| c.is_ascii_uppercase())
            && COUNTRY_CODES.contains(&t.raw.as_str())
        {
            let code = if t.raw == "UK" {
                "GB".to_owned()
            } else {
                t.raw.clone()
            };
            return Some((ValueField::Country, code, i + 1));
        }
        if t.raw.len() == 3
            && t.raw.chars().all(|c| c.is_ascii_uppercase())
            && let Some(code) = currency_code(&t.low)
        {
            return Some((ValueField::Currency, code.to_owned(), i + 1));
        }
        let mut best: Option<(ValueField, String, usize)> = None;
        for (name, code) in COUNTRIES {
            if let Some(k) = self.at(i, name)
                && best.as_ref().is_none_or(|(_, _, e)| i + k > *e)
            {
                best = Some((ValueField::Country, (*code).to_owned(), i + k));
            }
        }
        for v in VALUES {
            if let Some(k) = self.at(i, v.phrase)
                && best.as_ref().is_none_or(|(_, _, e)| i + k > *e)
                && (v.entity == "customer" || self.in_play(v.entity))
            {
                best = Some((
                    ValueField::Named(v.entity, v.field),
                    v.value.to_owned(),
                    i + k,
                ));
            }
        }
        if best.is_none()
            && matches!(
                t.low.as_str(),
                "euros" | "pounds" | "yen" | "sterling" | "euro"
            )
        {
            return Some((
                ValueField::Currency,
                currency_code(&t.low)?.to_owned(),
                i + 1,
            ));
        }
        best
    }

    /// A set of named values: "gold or platinum", "Iran, North Korea, Syria or Cuba",
    /// "non-US", "outside the US", "shipping to NG or GH".
    fn values_at(&self, i: usize, cur_entity: &str) -> Option<(Cond, usize, Option<FieldRef>)> {
        let mut start = i;
        let mut negated = false;
        let mut ship = false;
        // "non-US": a negated code glued to its prefix.
        let glued = self.t.get(i).and_then(|t| {
            let rest = t
                .raw
                .strip_prefix("non-")
                .or_else(|| t.raw.strip_prefix("Non-"))?;
            let up = rest.to_uppercase();
            if COUNTRY_CODES.contains(&up.as_str()) {
                Some((
                    ValueField::Country,
                    if up == "UK" { "GB".into() } else { up },
                ))
            } else {
                COUNTRIES
                    .iter()
                    .find(|(n, _)| *n == rest.to_lowercase())
                    .map(|(_, c)| (ValueField::Country, (*c).to_owned()))
            }
        });
        let mut values: Vec<String> = Vec::new();
        let kind: ValueField;
        let mut end;
        if let Some((k, v)) = glued.filter(|_| self.free(i)) {
            negated = true;
            kind = k;
            values.push(v);
            end = i + 1;
        } else {
            if let Some(k) = self.at_any(
                i,
                &["not", "outside ?of", "other than", "not in", "not from"],
            ) {
                negated = true;
                start = i + k;
            }
            if let Some(k) = self.at_any(
                start,
                &[
                    "shipping|shipped|ships|ship|delivered|delivering|going|sent to",
                    "destined for",
                ],
            ) {
                ship = true;
                start += k;
            }
            while DETERMINERS.contains(&self.word(start)) && start < i + 4 {
                start += 1;
            }
            let (k, v, e) = self.value_at(start)?;
            kind = k;
            values.push(v);
            end = e;
        }
        // More of the same kind: ", CA or MX", " or platinum", " and mailinator".
        while let Some(s) = self.at_any(
            end,
            &["or", "and", ",", "and/or", "nor", "&", "/", ", or", ", and"],
        ) {
            let mut j = end + s;
            while DETERMINERS.contains(&self.word(j)) {
                j += 1;
            }
            match self.value_at(j) {
                Some((k2, v, e)) if k2 == kind => {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                    end = e;
                }
                _ => break,
            }
        }
        let field = match kind {
            ValueField::Named(entity, field) => self.fref(entity, field),
            ValueField::Currency => {
                let e = if self.in_play("order") || cur_entity == "order" {
                    "order"
                } else {
                    cur_entity
                };
                self.fref(e, "currency")
            }
            ValueField::Country => {
                // "US customers", "non-US orders": the noun after the list.
                let after = self.entity_noun(end).map(|e| e.name.clone());
                let entity = if ship {
                    "order".to_owned()
                } else if let Some(a) = after.filter(|a| {
                    self.lex
                        .entity(a)
                        .and_then(|e| e.field("country"))
                        .is_some()
                }) {
                    a
                } else if self
                    .lex
                    .entity(cur_entity)
                    .and_then(|e| e.field("country"))
                    .is_some()
                {
                    cur_entity.to_owned()
                } else if self.in_play("order") {
                    "order".to_owned()
                } else {
                    "customer".to_owned()
                };
                self.fref(&entity, "country")
            }
        };
        let cond = match (values.len(), negated) {
            (1, false) => Cond::cmp(field.path(), "eq", Value::String(values.remove(0))),
            (1, true) => Cond::cmp(field.path(), "ne", Value::String(values.remove(0))),
            (_, false) => Cond::cmp(field.path(), "in", json!(values)),
            (_, true) => Cond::cmp(field.path(), "not_in", json!(values)),
        };
        Some((cond, end, Some(field)))
    }

    /// "status is pending", "stage is proposal", "category is 'garden'": a field just named,
    /// then "is" and a word.
    fn field_is_at(
        &self,
        i: usize,
        cur_field: &Option<FieldRef>,
    ) -> Option<(Cond, usize, Option<FieldRef>)> {
        let f = cur_field
            .as_ref()
            .filter(|f| matches!(f.kind, FieldKind::Text | FieldKind::Code))?;
        let (k, op) = if let Some(k) = self.at_any(
            i,
            &["is not", "isn't", "is no longer", "not equal to", "!="],
        ) {
            (k, "ne")
        } else if let Some(k) = self.at_any(
            i,
            &[
                "is",
                "=",
                "equals",
                "is set to",
                "of",
                "changes to",
                "moves to",
                "becomes",
            ],
        ) {
            (k, "eq")
        } else {
            return None;
        };
        let v = i + k;
        let t = self.t.get(v).filter(|_| self.free(v))?;
        // "the shipping country is Russia", "the tier is Gold": a named value.
        if let Some((_, canonical, e)) = self.value_at(v) {
            return Some((
                Cond::cmp(f.path(), op, Value::String(canonical)),
                e,
                Some(f.clone()),
            ));
        }
        let value = match t.kind {
            Kind::Quoted => t.raw.clone(),
            Kind::Word
                if !DETERMINERS.contains(&t.low.as_str())
                    && !STOP.contains(&t.low.as_str())
                    && self.entity_noun(v).is_none()
                    && !crate::parse::NEGATIONS.contains(&t.low.as_str()) =>
            {
                if f.kind == FieldKind::Code {
                    t.raw.to_uppercase()
                } else {
                    t.low.replace('-', "_")
                }
            }
            _ => return None,
        };
        Some((
            Cond::cmp(f.path(), op, Value::String(value)),
            v + 1,
            Some(f.clone()),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ValueField {
    Named(&'static str, &'static str),
    Country,
    Currency,
}

/// A count of a list's items, as conditions on its indexes: "more than 10 items" is "item 10
/// (the 11th) exists".
fn items_count(list: &str, op: &str, n: f64) -> Option<Cond> {
    if n < 0.0 || n.fract() != 0.0 {
        return None;
    }
    let n = n as u64;
    let at = |k: u64, present: bool| Cond::Exists {
        field: format!("{list}.{k}"),
        present,
    };
    Some(match op {
        "gt" => at(n, true),
        "gte" if n == 0 => return None,
        "gte" => at(n - 1, true),
        "lt" if n == 0 => return None,
        "lt" => at(n - 1, false),
        "lte" => at(n, false),
        "eq" if n == 0 => at(0, false),
        "eq" => Cond::And(vec![at(n - 1, true), at(n, false)]),
        _ => return None,
    })
}

fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_counts_become_index_tests() {
        assert_eq!(
            items_count("order.items", "gt", 10.0),
            Some(Cond::Exists {
                field: "order.items.10".into(),
                present: true
            })
        );
        assert_eq!(
            items_count("order.items", "lte", 3.0),
            Some(Cond::Exists {
                field: "order.items.3".into(),
                present: false
            })
        );
        assert_eq!(items_count("order.items", "gte", 0.0), None);
    }
}

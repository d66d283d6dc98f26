//! From items to a plan: each sentence is cut into chunks (a new decision, or an "otherwise"
//! followed by an action, starts one), and each chunk becomes a rule, the rule for everything
//! else, or what happens when a wait or an approval runs out. Then the trigger is chosen and
//! what is missing is asked.

use crate::parse::{Item, Mark, Parser, What};
use crate::plan::{Act, Cond, Plan, Rule, TriggerPlan};

/// Where the last wait or approval sits, so an outcome can be attached to it.
#[derive(Clone, Copy)]
enum Branch {
    InRule(usize),
    InOtherwise,
}

pub(crate) fn assemble(p: &mut Parser) -> Plan {
    let mut items = p.items.clone();
    items.sort_by_key(|it| it.at);
    vague_sizes(p, &mut items);

    let mut rules: Vec<Rule> = Vec::new();
    let mut otherwise: Option<Vec<Act>> = None;
    let mut carry: Vec<Cond> = Vec::new();
    let mut only = false;
    let mut last_branch: Option<(Branch, usize)> = None;

    let sentences = group_by_sentence(p, &items);
    for sentence in sentences {
        let mut branch_in_sentence = false;
        for chunk in chunks(&sentence) {
            let acts: Vec<Act> = chunk
                .iter()
                .filter_map(|it| match &it.what {
                    What::Act(a) => Some(a.clone()),
                    _ => None,
                })
                .collect();
            let has = |m: &dyn Fn(&Mark) -> bool| {
                chunk
                    .iter()
                    .any(|it| matches!(&it.what, What::Mark(x) if m(x)))
            };
            if has(&|m| matches!(m, Mark::Only)) {
                only = true;
            }
            let outcome = chunk.iter().find_map(|it| match &it.what {
                What::Mark(m @ (Mark::NotArrived { .. } | Mark::Rejected | Mark::Approved)) => {
                    Some(m.clone())
                }
                _ => None,
            });
            let (main, except) = conditions(&chunk);
            let has_else = has(&|m| matches!(m, Mark::Else));

            if let Some(outcome) = outcome {
                let target = last_branch.filter(|_| {
                    !matches!(
                        &outcome,
                        Mark::NotArrived {
                            waited: Some(_),
                            ..
                        }
                    ) || branch_is_wait(&rules, &otherwise, last_branch)
                });
                match target {
                    Some(b) => attach(&mut rules, &mut otherwise, b, &outcome, acts),
                    None => {
                        // "if payment isn't received within 24 hours, cancel the order": the
                        // wait is implied.
                        let Mark::NotArrived { waited, within } = &outcome else {
                            continue;
                        };
                        let what = waited.clone().unwrap_or_else(|| "payment".into());
                        let (event, field, value) = p.awaited(&what);
                        let wait = Act::Wait {
                            event: event.unwrap_or_else(|| "payment.received".into()),
                            field,
                            value,
                            timeout: Some(within.unwrap_or(86_400)),
                            on_arrive: Vec::new(),
                            on_timeout: acts,
                        };
                        let mut conds = std::mem::take(&mut carry);
                        conds.extend(main);
                        rules.push(Rule {
                            cond: Cond::all(conds),
                            acts: vec![wait],
                        });
                        last_branch = Some((Branch::InRule(rules.len() - 1), 0));
                        branch_in_sentence = true;
                    }
                }
                continue;
            }
            if has_else {
                let is_wait = branch_is_wait(&rules, &otherwise, last_branch);
                if let Some(b) =
                    last_branch.filter(|_| branch_in_sentence || (is_wait && main.is_empty()))
                {
                    let outcome = Mark::NotArrived {
                        waited: None,
                        within: None,
                    };
                    attach(&mut rules, &mut otherwise, b, &outcome, acts);
                    continue;
                }
                if main.is_empty() && except.is_empty() {
                    if !acts.is_empty() {
                        let normalized = normalize(acts);
                        let branch = normalized.iter().position(Act::is_branching);
                        otherwise = Some(normalized);
                        if let Some(k) = branch {
                            last_branch = Some((Branch::InOtherwise, k));
                            branch_in_sentence = true;
                        }
                    }
                    continue;
                }
            }
            if acts.is_empty() {
                if only && !main.is_empty() {
                    let cond = rule_cond(&mut carry, main, except);
                    rules.push(Rule {
                        cond,
                        acts: vec![Act::Allow],
                    });
                } else {
                    carry.extend(main);
                    if !except.is_empty() {
                        carry.push(Cond::Not(Box::new(Cond::any(except).expect("not empty"))));
                    }
                }
                continue;
            }
            let cond = rule_cond(&mut carry, main, except);
            let acts = normalize(acts);
            if let Some(k) = acts.iter().rposition(Act::is_branching) {
                last_branch = Some((Branch::InRule(rules.len()), k));
                branch_in_sentence = true;
            }
            rules.push(Rule { cond, acts });
        }
    }
    // Conditions with no action after them apply to the last rule ("Block orders over $5k.
    // Only for new customers.").
    if !carry.is_empty()
        && let Some(last) = rules.last_mut()
    {
        let mut conds: Vec<Cond> = last.cond.take().into_iter().collect();
        conds.append(&mut carry);
        last.cond = Cond::all(conds);
    }

    // The trigger.
    let mut named: Vec<&str> = p
        .events
        .iter()
        .filter(|e| e.explicit)
        .map(|e| e.event.as_str())
        .collect();
    named.dedup();
    if named.len() > 1 {
        let list = named.join(", ");
        p.ask(format!(
            "The prompt names several events ({list}); this workflow listens to the first. Should the others be workflows of their own?"
        ));
    }
    let explicit = p.events.iter().find(|e| e.explicit).cloned();
    let implicit = p.events.first().cloned();
    let primary = p.primary_entity();
    let decides = rules
        .iter()
        .flat_map(|r| r.acts.iter())
        .chain(otherwise.iter().flatten())
        .any(Act::is_decision);
    let mut entity = None;
    let trigger = if let Some(e) = explicit {
        entity = Some(e.entity.clone());
        TriggerPlan::Event { event: e.event }
    } else if let Some(s) = p.schedule.clone() {
        if s.time_assumed {
            p.ask("At what time should it run? (it runs at 09:00 UTC for now)");
        }
        TriggerPlan::Schedule(s)
    } else if let Some(e) = implicit {
        entity = Some(e.entity.clone());
        TriggerPlan::Event { event: e.event }
    } else if let Some(name) = primary.clone() {
        let ent = p.lex.entity(&name);
        let event = ent.map_or_else(
            || format!("{name}.created"),
            |e| {
                if decides {
                    e.default_events.0.clone()
                } else {
                    e.default_events.1.clone()
                }
            },
        );
        if p.vague_when {
            p.ask(format!(
                "Which {name} event should start the workflow (for example {name}.created or {name}.updated)?"
            ));
        } else if name == "deal" {
            p.ask(
                "Which deal event should start it: deal.won, deal.stage_changed or deal.created?",
            );
        }
        entity = Some(name);
        TriggerPlan::Event { event }
    } else {
        p.ask("What should start this workflow? Name an event (\"when an order is placed\") or a schedule (\"every weekday at 9am\").");
        TriggerPlan::Manual
    };

    // A scheduled run has no entity in its payload to test.
    if matches!(trigger, TriggerPlan::Schedule(_)) && rules.iter().any(|r| r.cond.is_some()) {
        p.ask("A scheduled run has no record in its payload, so its conditions cannot be checked: should it start on an event instead?");
        for r in &mut rules {
            r.cond = None;
        }
    }

    // A product named in a rule about orders or carts is one of its lines: `item.sku`.
    if matches!(entity.as_deref(), Some("order" | "cart")) {
        let rename = |f: &str| {
            let rest = f.strip_prefix("product.")?;
            matches!(rest, "sku" | "price" | "category" | "qty").then(|| format!("item.{rest}"))
        };
        for r in &mut rules {
            if let Some(c) = &mut r.cond {
                c.map_fields(&rename);
                if c.split_item().is_none()
                    || (c.reads_item() && r.acts.iter().any(Act::is_branching))
                {
                    p.ask("A test on the order's lines can be combined only with \"and\" and simple actions: can you say it as one rule per sentence?");
                }
            }
        }
    }

    // Defaults for what the prompt left open.
    let any_block = rules
        .iter()
        .flat_map(|r| r.acts.iter())
        .any(|a| matches!(a, Act::Block | Act::Approval { .. }));
    let any_allow = rules
        .iter()
        .flat_map(|r| r.acts.iter())
        .any(|a| matches!(a, Act::Allow));
    let conditional = rules.iter().any(|r| r.cond.is_some());
    if otherwise.is_none() && conditional {
        if only && any_allow {
            otherwise = Some(vec![Act::Block]);
        } else if any_block {
            otherwise = Some(vec![Act::Allow]);
        } else if any_allow {
            let what = entity
                .clone()
                .or(primary.clone())
                .unwrap_or_else(|| "order".into());
            p.ask(format!(
                "What should happen to the other {what}s: block them, or let them through too?"
            ));
        }
    }
    if rules.is_empty() && otherwise.is_none() {
        p.ask("What should the workflow do? For example block, allow, require approval from a team, notify a team, e-mail an address or call a URL.");
    }

    let mut entities: Vec<String> = Vec::new();
    if let Some(e) = &entity {
        entities.push(e.clone());
    }
    for r in &rules {
        if let Some(c) = &r.cond {
            c.entities(&mut entities);
        }
    }
    for (_, e) in &p.mentions {
        if !entities.contains(e) {
            entities.push(e.clone());
        }
    }
    Plan {
        trigger,
        entity,
        rules,
        otherwise,
        entities,
        questions: p.questions.clone(),
        coverage: p.coverage(),
    }
}

fn branch_is_wait(
    rules: &[Rule],
    otherwise: &Option<Vec<Act>>,
    b: Option<(Branch, usize)>,
) -> bool {
    let act = match b {
        Some((Branch::InRule(r), k)) => rules.get(r).and_then(|r| r.acts.get(k)),
        Some((Branch::InOtherwise, k)) => otherwise.as_ref().and_then(|o| o.get(k)),
        None => None,
    };
    matches!(act, Some(Act::Wait { .. }))
}

/// Puts the actions of an outcome clause on the wait or approval they answer.
fn attach(
    rules: &mut [Rule],
    otherwise: &mut Option<Vec<Act>>,
    b: (Branch, usize),
    outcome: &Mark,
    acts: Vec<Act>,
) {
    let target = match b {
        (Branch::InRule(r), k) => rules.get_mut(r).and_then(|r| r.acts.get_mut(k)),
        (Branch::InOtherwise, k) => otherwise.as_mut().and_then(|o| o.get_mut(k)),
    };
    match target {
        Some(Act::Wait {
            on_arrive,
            on_timeout,
            ..
        }) => match outcome {
            Mark::Approved => on_arrive.extend(acts),
            _ => on_timeout.extend(acts),
        },
        Some(Act::Approval {
            on_approve,
            on_reject,
            on_timeout,
            ..
        }) => match outcome {
            Mark::Approved => on_approve.extend(acts),
            Mark::Rejected => on_reject.get_or_insert_with(Vec::new).extend(acts),
            _ => {
                on_timeout.get_or_insert_with(Vec::new).extend(acts.clone());
                if on_reject.is_none() {
                    *on_reject = Some(acts);
                }
            }
        },
        _ => {}
    }
}

fn rule_cond(carry: &mut Vec<Cond>, main: Vec<Cond>, except: Vec<Cond>) -> Option<Cond> {
    let mut conds = std::mem::take(carry);
    conds.extend(main);
    if let Some(ex) = Cond::any(except) {
        conds.push(Cond::Not(Box::new(ex)));
    }
    Cond::all(conds)
}

/// Simple actions first, in the order written; then an approval (what follows it runs once
/// approved) or a wait (what follows it runs once the event arrives); the decision last.
pub(crate) fn normalize(acts: Vec<Act>) -> Vec<Act> {
    let mut simple = Vec::new();
    let mut branching: Option<Act> = None;
    let mut after = Vec::new();
    let mut decision: Option<Act> = None;
    for a in acts {
        match a {
            Act::Allow | Act::Block => {
                // Block wins over allow, as in a run.
                if decision != Some(Act::Block) {
                    decision = Some(a);
                }
            }
            Act::Approval { .. } | Act::Wait { .. } if branching.is_none() => branching = Some(a),
            other if branching.is_some() => after.push(other),
            other => simple.push(other),
        }
    }
    match branching {
        Some(Act::Approval {
            team,
            timeout,
            mut on_approve,
            on_reject,
            on_timeout,
        }) => {
            on_approve.extend(after);
            simple.push(Act::Approval {
                team,
                timeout,
                on_approve,
                on_reject,
                on_timeout,
            });
        }
        Some(Act::Wait {
            event,
            field,
            value,
            timeout,
            mut on_arrive,
            on_timeout,
        }) => {
            on_arrive.extend(after);
            if let Some(d) = decision.take() {
                on_arrive.push(d);
            }
            simple.push(Act::Wait {
                event,
                field,
                value,
                timeout,
                on_arrive,
                on_timeout,
            });
        }
        _ => {
            simple.extend(after);
            simple.extend(decision);
        }
    }
    simple
}

/// The conditions of a chunk: those before an "except" (and after its clause), and those in
/// its scope; "or" between two conditions makes them alternatives.
fn conditions(chunk: &[&Item]) -> (Vec<Cond>, Vec<Cond>) {
    #[derive(Clone)]
    enum E {
        C(Cond),
        Or,
    }
    let mut main: Vec<E> = Vec::new();
    let mut except: Vec<E> = Vec::new();
    let mut in_except = false;
    for it in chunk {
        match &it.what {
            What::Mark(Mark::Except) => in_except = true,
            What::Mark(Mark::Comma) | What::Act(_) => in_except = false,
            What::Mark(Mark::Or) => {
                if in_except {
                    except.push(E::Or);
                } else {
                    main.push(E::Or);
                }
            }
            What::Cond(c) => {
                if in_except {
                    except.push(E::C(c.clone()));
                } else {
                    main.push(E::C(c.clone()));
                }
            }
            _ => {}
        }
    }
    let combine = |list: Vec<E>| -> Vec<Cond> {
        let mut groups: Vec<Vec<Cond>> = vec![Vec::new()];
        let mut pending_or = false;
        for e in list {
            match e {
                E::Or => pending_or = true,
                E::C(c) => {
                    if pending_or && groups.last().is_some_and(|g| !g.is_empty()) {
                        groups.push(Vec::new());
                    }
                    pending_or = false;
                    if let Some(g) = groups.last_mut() {
                        g.push(c);
                    }
                }
            }
        }
        let alternatives: Vec<Cond> = groups.into_iter().filter_map(Cond::all).collect();
        Cond::any(alternatives).into_iter().collect()
    };
    (combine(main), combine(except))
}

fn group_by_sentence<'i>(p: &Parser, items: &'i [Item]) -> Vec<Vec<&'i Item>> {
    let mut out: Vec<Vec<&Item>> = Vec::new();
    let mut last = usize::MAX;
    for it in items {
        let s = p.sent.get(it.at).copied().unwrap_or(0);
        if s != last {
            out.push(Vec::new());
            last = s;
        }
        if let Some(v) = out.last_mut() {
            v.push(it);
        }
    }
    out
}

/// Cuts a sentence where a second decision starts ("… are never blocked, and block …") or
/// where "otherwise" (or an outcome) is followed by an action.
fn chunks<'i>(sentence: &[&'i Item]) -> Vec<Vec<&'i Item>> {
    let mut out: Vec<Vec<&Item>> = vec![Vec::new()];
    for (n, it) in sentence.iter().enumerate() {
        let cur = out.last().map(Vec::as_slice).unwrap_or_default();
        let cur_has_act = cur.iter().any(|i| matches!(i.what, What::Act(_)));
        let cur_has_decision = cur
            .iter()
            .any(|i| matches!(&i.what, What::Act(a) if a.is_decision()));
        let act_follows = sentence[n + 1..]
            .iter()
            .any(|i| matches!(i.what, What::Act(_)));
        let split_here = match &it.what {
            What::Act(a) if a.is_decision() && cur_has_decision => true,
            What::Mark(Mark::Else | Mark::NotArrived { .. } | Mark::Rejected | Mark::Approved) => {
                cur_has_act && act_follows
            }
            _ => false,
        };
        if split_here {
            // For a second decision, what follows the last connective after the previous
            // action moves with it.
            let mut moved = Vec::new();
            if matches!(it.what, What::Act(_))
                && let Some(cur) = out.last_mut()
            {
                let last_act = cur.iter().rposition(|i| matches!(i.what, What::Act(_)));
                let cut = cur
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(k, i)| {
                        last_act.is_none_or(|a| *k > a)
                            && matches!(i.what, What::Mark(Mark::Comma | Mark::And))
                    })
                    .map(|(k, _)| k + 1);
                if let Some(c) = cut {
                    moved = cur.split_off(c);
                }
            }
            out.push(moved);
        }
        if let Some(cur) = out.last_mut() {
            cur.push(it);
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// "Block big orders": a size with no number in its sentence gets a placeholder threshold
/// and a question; "suspicious" gets a question.
fn vague_sizes(p: &mut Parser, items: &mut Vec<Item>) {
    let numeric = |c: &Cond| -> bool {
        fn walk(c: &Cond) -> bool {
            match c {
                Cond::Cmp { op, .. } => matches!(*op, "gt" | "gte" | "lt" | "lte" | "between"),
                Cond::Exists { .. } => true,
                Cond::And(l) | Cond::Or(l) => l.iter().any(walk),
                Cond::Not(c) => walk(c),
            }
        }
        walk(c)
    };
    let mut added = Vec::new();
    for it in items.iter() {
        let What::Mark(Mark::Vague(word)) = &it.what else {
            continue;
        };
        let s = p.sent[it.at];
        let has_number = items
            .iter()
            .any(|o| p.sent[o.at] == s && matches!(&o.what, What::Cond(c) if numeric(c)));
        if has_number {
            continue;
        }
        let entity = p
            .mentions
            .iter()
            .find(|(at, _)| *at > it.at)
            .or_else(|| p.mentions.first())
            .map_or_else(|| "order".to_owned(), |(_, e)| e.clone());
        let up = matches!(
            word.as_str(),
            "big"
                | "bigger"
                | "large"
                | "larger"
                | "huge"
                | "high-value"
                | "expensive"
                | "significant"
                | "major"
                | "valuable"
        );
        let down = matches!(word.as_str(), "small" | "tiny" | "cheap" | "low-value");
        if up || down {
            let field = p.lex.entity(&entity).and_then(|e| {
                e.money()
                    .or_else(|| e.default_number())
                    .map(|f| format!("{}.{}", e.name, f.name))
            });
            let Some(field) = field else { continue };
            let (op, v) = if up { ("gt", 1000) } else { ("lt", 50) };
            p.ask(format!(
                "What counts as a {word} {entity}? Give a threshold (it uses {field} {} {v} for now).",
                if up { "over" } else { "under" }
            ));
            added.push(Item {
                at: it.at,
                what: What::Cond(Cond::cmp(field, op, v.into())),
            });
        } else {
            p.ask(format!(
                "What makes a {entity} {word}? Name what to check (for example an e-mail domain, a country or an order total)."
            ));
        }
    }
    items.extend(added);
    items.sort_by_key(|it| it.at);
}

//! The brand's physical stores, and a strategy for each (千店千策): its
//! sales by week against its forecast, what runs hotter or colder there
//! than in the brand, what to show on its display and keep in sample stock,
//! and people per day. The numbers come from
//! [`kiln_forecast::store::store_strategy`]; this module reads the history,
//! names things as the shop shows them, and keeps the work off the request
//! threads.

use jiff::ToSpan;
use jiff::civil::Date;
use kiln_domain::{Address, SaleTime, StoreLocation};
use kiln_forecast::demand::{Bucket, format_date};
use kiln_forecast::store::{self, Heat, StoreLine, StrategyOptions};
use kiln_model::Product;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::error::{Error, FieldError, Result};
use crate::orders::check_address;
use crate::time::{day_of, last_sunday_before, today};

/// A store as a brand declares it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    pub name: String,
    /// Orders picked up at the store ship to it.
    pub address: Address,
}

/// What a strategy may be asked for; each has a default.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StrategyQuery {
    /// Weeks of history read (4 to 104; default 26).
    pub weeks: Option<u32>,
    /// Samples the store's display holds (1 to 100; default 12).
    pub display_slots: Option<u32>,
    /// Minutes a person spends on one sale (1 to 600; default 20).
    pub minutes_per_sale: Option<u32>,
    /// Hours the store is open a day (1 to 24; default 10).
    pub open_hours: Option<u32>,
}

/// How a product or an option value runs at the store against the brand.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreShare {
    pub product: String,
    /// `Mug` or `Mug · Glaze: Sage`.
    pub label: String,
    pub option: Option<String>,
    pub value: Option<String>,
    pub store_units: f64,
    /// The share of the store's units (of the product's, for a value) ...
    pub store_share: f64,
    /// ... and of the brand's.
    pub brand_share: f64,
    /// `store_share / brand_share`: above 1 runs hotter here.
    pub index: f64,
    /// Binomial z-score of the store's units against the brand's share.
    pub z: f64,
    /// `hotter`, `colder`, or `as_the_brand` (within noise).
    pub heat: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreBacktest {
    /// The weeks tested: the forecast made before them, and what sold.
    pub weeks: Vec<String>,
    pub forecast: Vec<f64>,
    pub actual: Vec<f64>,
    /// Σ|forecast − actual| / Σ actual.
    pub wape: Option<f64>,
    /// (Σ forecast − Σ actual) / Σ actual: positive forecast too much.
    pub bias: Option<f64>,
}

/// A configuration to show and keep in sample stock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreSample {
    pub product: String,
    pub label: String,
    pub selections: std::collections::BTreeMap<String, String>,
    pub store_units: f64,
    pub expected_share: f64,
    pub expected_weekly_units: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisplayValue {
    pub option: String,
    pub value: String,
    pub label: String,
    /// Expected share of the product's units here.
    pub share: f64,
}

/// A product on the display, and the values its buyers here want.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisplayProduct {
    pub product: String,
    pub name: String,
    pub expected_share: f64,
    pub values: Vec<DisplayValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assortment {
    pub display_slots: u32,
    pub samples: Vec<StoreSample>,
    pub display: Vec<DisplayProduct>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// `Mon` to `Sun`.
    pub weekday: String,
    /// Forecast sales (tickets) that day.
    pub tickets: f64,
    pub staff: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Staffing {
    pub minutes_per_sale: u32,
    pub open_hours: u32,
    /// The share of their hours a person serves.
    pub utilisation: f64,
    pub days: Vec<StaffDay>,
}

/// One store's strategy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreStrategy {
    pub store: String,
    pub name: String,
    /// The last day of the history read: the last whole week before today,
    /// or the end of the brand's sales if they stopped before that.
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// First day of each history week; units and sales (tickets) per week.
    pub history_weeks: Vec<String>,
    pub units: Vec<f64>,
    pub tickets: Vec<f64>,
    /// First day of each forecast week; units forecast, with the interval.
    pub forecast_weeks: Vec<String>,
    pub forecast: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub model: String,
    /// The last weeks forecast from the weeks before them, against actuals.
    pub backtest: Option<StoreBacktest>,
    /// The store's best sellers and values, with how they run here.
    pub products: Vec<StoreShare>,
    pub values: Vec<StoreShare>,
    /// Products and values that run hotter or colder here than in the brand.
    pub hotter: Vec<StoreShare>,
    pub colder: Vec<StoreShare>,
    pub assortment: Assortment,
    pub staffing: Staffing,
}

/// A store id: 1 to 64 of `a-z`, `0-9`, `-` and `_`.
fn check_store_id(id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "/store",
            "1 to 64 characters of a-z, 0-9, - and _",
        ))
    }
}

fn within(
    v: Option<u32>,
    field: &str,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> Result<u32> {
    match v {
        None => Ok(default),
        Some(v) if range.contains(&v) => Ok(v),
        Some(_) => Err(Error::invalid(
            field,
            format!("between {} and {}", range.start(), range.end()),
        )),
    }
}

impl App {
    /// Adds a store, or renames and moves it.
    pub async fn put_store(
        &self,
        slug: &str,
        id: &str,
        input: StoreInput,
    ) -> Result<StoreLocation> {
        let brand = self.brand_record(slug).await?;
        check_store_id(id)?;
        let mut errors = check_address("/address", &input.address);
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("/name", "1 to 200 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let location = StoreLocation {
            id: id.to_string(),
            name,
            address: input.address,
        };
        self.store.put_store(&brand.id, &location).await?;
        Ok(location)
    }

    /// One store's strategy, from every channel's sales of the brand.
    pub async fn store_strategy(
        &self,
        slug: &str,
        store_id: &str,
        q: &StrategyQuery,
    ) -> Result<StoreStrategy> {
        let rt = self.brand(slug).await?;
        let weeks = within(q.weeks, "weeks", 4..=104, 26)?;
        let slots = within(q.display_slots, "display_slots", 1..=100, 12)?;
        let minutes = within(q.minutes_per_sale, "minutes_per_sale", 1..=600, 20)?;
        let hours = within(q.open_hours, "open_hours", 1..=24, 10)?;
        let store = self
            .store
            .stores(&rt.brand.id)
            .await?
            .into_iter()
            .find(|s| s.id == store_id)
            .ok_or_else(|| Error::NotFound(format!("no store {store_id}")))?;

        let today = today();
        let last_sunday = last_sunday_before(today);
        // A brand whose sales stopped (an old export) is read as of then.
        let (last_day, last_order) = self.store.last_sale(&rt.brand.id).await?;
        let last = [last_day, last_order.map(day_of)]
            .into_iter()
            .flatten()
            .max();
        let as_of = match last {
            Some(d) if d < last_sunday => last_sunday_before(d.tomorrow().unwrap_or(d)).max(d),
            _ => last_sunday,
        };
        let since = as_of
            .checked_sub((i64::from(weeks) * 7 + 7).days())
            .unwrap_or(as_of);
        let since_at = since
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let rows = self
            .store
            .sales_lines(&rt.brand.id, since, since_at)
            .await?;
        let epoch = Date::constant(1970, 1, 1);
        let days = move |d: Date| i64::from((d - epoch).get_days());
        let options = StrategyOptions {
            last_day: days(as_of),
            first_staff_day: if as_of == last_sunday {
                days(today)
            } else {
                days(as_of) + 1
            },
            history_weeks: weeks as usize,
            display_slots: slots as usize,
            minutes_per_sale: f64::from(minutes),
            open_hours: f64::from(hours),
            ..StrategyOptions::default()
        };
        let utilisation = options.utilisation;
        let id = store.id.clone();
        let s = tokio::task::spawn_blocking(move || {
            let lines: Vec<StoreLine<'_>> = rows
                .iter()
                .map(|r| StoreLine {
                    day: days(match r.when {
                        SaleTime::Day(d) => d,
                        SaleTime::At(t) => day_of(t),
                    }),
                    store: r.store_id.as_deref(),
                    ticket: r.ticket(),
                    product: &r.product_id,
                    selections: &r.selections,
                    quantity: r.quantity as f64,
                })
                .collect();
            store::store_strategy(&id, &lines, &options)
        })
        .await
        .map_err(|e| Error::internal_from("the store's strategy stopped", e))?;

        let product = |id: &str| rt.catalog.product(id).map(|c| c.product());
        let week = |w: i64| format_date(Bucket::Week.start(w));
        let history = s.units.len() as i64;
        let share = |x: &store::Share| view_share(product(&x.product), x);
        Ok(StoreStrategy {
            store: store.id.clone(),
            name: store.name.clone(),
            as_of,
            history_weeks: (0..history).map(|i| week(s.first_week + i)).collect(),
            units: s.units.clone(),
            tickets: s.tickets.clone(),
            forecast_weeks: (0..s.forecast.len() as i64)
                .map(|i| week(s.first_week + history + i))
                .collect(),
            forecast: s.forecast.clone(),
            lower: s.lower.clone(),
            upper: s.upper.clone(),
            model: s.model.clone(),
            backtest: s.backtest.as_ref().map(|b| StoreBacktest {
                weeks: (0..b.actual.len() as i64)
                    .map(|i| week(s.first_week + b.from_week as i64 + i))
                    .collect(),
                forecast: b.forecast.clone(),
                actual: b.actual.clone(),
                wape: b.wape,
                bias: b.bias,
            }),
            products: s.products.iter().map(share).collect(),
            values: s.values.iter().map(share).collect(),
            hotter: s.hotter.iter().map(share).collect(),
            colder: s.colder.iter().map(share).collect(),
            assortment: Assortment {
                display_slots: slots,
                samples: s
                    .samples
                    .iter()
                    .map(|x| StoreSample {
                        label: sample_label(product(&x.product), &x.product, &x.selections),
                        product: x.product.clone(),
                        selections: x.selections.clone(),
                        store_units: x.store_units,
                        expected_share: x.expected_share,
                        expected_weekly_units: x.expected_weekly_units,
                    })
                    .collect(),
                display: s
                    .display
                    .iter()
                    .map(|d| DisplayProduct {
                        name: product(&d.product)
                            .map_or_else(|| d.product.clone(), |p| p.name.clone()),
                        product: d.product.clone(),
                        expected_share: d.expected_share,
                        values: d
                            .values
                            .iter()
                            .map(|(option, value, share)| DisplayValue {
                                label: product(&d.product)
                                    .map(|p| crate::demand::value_label(p, option, value))
                                    .unwrap_or_else(|| format!("{option}: {value}")),
                                option: option.clone(),
                                value: value.clone(),
                                share: *share,
                            })
                            .collect(),
                    })
                    .collect(),
            },
            staffing: Staffing {
                minutes_per_sale: minutes,
                open_hours: hours,
                utilisation,
                days: s
                    .staffing
                    .iter()
                    .map(|d| {
                        let date = epoch.checked_add(d.day.days()).unwrap_or(epoch);
                        StaffDay {
                            date,
                            weekday: date.strftime("%a").to_string(),
                            tickets: d.tickets,
                            staff: d.staff,
                        }
                    })
                    .collect(),
            },
        })
    }
}

fn view_share(product: Option<&Product>, x: &store::Share) -> StoreShare {
    let name = product.map_or_else(|| x.product.clone(), |p| p.name.clone());
    let label = match (&x.value, product) {
        (None, _) => name,
        (Some((o, v)), Some(p)) => format!("{name} · {}", crate::demand::value_label(p, o, v)),
        (Some((o, v)), None) => format!("{name} · {o}: {v}"),
    };
    StoreShare {
        product: x.product.clone(),
        label,
        option: x.value.as_ref().map(|v| v.0.clone()),
        value: x.value.as_ref().map(|v| v.1.clone()),
        store_units: x.store_units,
        store_share: x.store_share,
        brand_share: x.brand_share,
        index: x.index,
        z: x.z,
        heat: match x.heat {
            Heat::Hotter => "hotter",
            Heat::Colder => "colder",
            Heat::AsTheBrand => "as_the_brand",
        },
    }
}

/// `Mug · Glaze: Sage, Size: L`.
fn sample_label(
    product: Option<&Product>,
    id: &str,
    selections: &std::collections::BTreeMap<String, String>,
) -> String {
    let Some(p) = product else {
        return id.to_string();
    };
    let values: Vec<String> = p
        .options
        .iter()
        .filter_map(|o| {
            let v = selections.get(&o.id)?;
            Some(crate::demand::value_label(p, &o.id, v))
        })
        .collect();
    if values.is_empty() {
        p.name.clone()
    } else {
        format!("{} · {}", p.name, values.join(", "))
    }
}

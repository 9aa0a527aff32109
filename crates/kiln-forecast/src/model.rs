//! The model zoo's names: [`Model`] and how it is written (`theta`,
//! `median(snaive+theta+mstl)`), parsed and printed.

use std::fmt;
use std::str::FromStr;

/// A forecasting model.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// Last value.
    Naive,
    /// Last season of the primary period.
    SeasonalNaive,
    /// Last season of the longest period that fits.
    SeasonalNaiveLong,
    /// Simple exponential smoothing (on seasonally adjusted data when seasonal).
    Ses,
    /// Holt's linear trend, ETS(A,A,N) (seasonally adjusted).
    Holt,
    /// Damped trend, ETS(A,Ad,N) (seasonally adjusted).
    Damped,
    /// Automatic non-seasonal ETS by AICc (seasonally adjusted).
    Ets,
    /// The Theta method (Assimakopoulos and Nikolopoulos), as the M4 benchmark.
    Theta,
    /// MSTL over every season, with a non-seasonal model for the deseasonalised series.
    Mstl(TrendModel),
    /// Croston's method (alpha 0.1).
    Croston,
    /// Croston's method with optimised smoothing.
    CrostonOptimized,
    /// Syntetos-Boylan approximation.
    Sba,
    /// Teunter-Syntetos-Babai with alpha_d = alpha_p = 0.1.
    Tsb,
    /// Aggregate-disaggregate intermittent demand approach.
    Adida,
    /// Intermittent multiple aggregation prediction algorithm.
    Imapa,
    /// Median of several models' forecasts.
    Median(Vec<Model>),
    /// Mean of several models' forecasts.
    Mean(Vec<Model>),
    /// The global linear autoregression fitted across the collection ([`global`]); the
    /// seasonal naive where none was fitted.
    Global,
}

/// Model of MSTL's deseasonalised series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrendModel {
    Ets,
    Ses,
    Damped,
    Theta,
    Naive,
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, name: &str, ms: &[Model]| {
            write!(f, "{name}(")?;
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    write!(f, "+")?;
                }
                write!(f, "{m}")?;
            }
            write!(f, ")")
        };
        match self {
            Model::Naive => write!(f, "naive"),
            Model::SeasonalNaive => write!(f, "snaive"),
            Model::SeasonalNaiveLong => write!(f, "snaive-long"),
            Model::Ses => write!(f, "ses"),
            Model::Holt => write!(f, "holt"),
            Model::Damped => write!(f, "damped"),
            Model::Ets => write!(f, "ets"),
            Model::Theta => write!(f, "theta"),
            Model::Mstl(TrendModel::Ets) => write!(f, "mstl"),
            Model::Mstl(TrendModel::Ses) => write!(f, "mstl-ses"),
            Model::Mstl(TrendModel::Damped) => write!(f, "mstl-damped"),
            Model::Mstl(TrendModel::Theta) => write!(f, "mstl-theta"),
            Model::Mstl(TrendModel::Naive) => write!(f, "mstl-naive"),
            Model::Croston => write!(f, "croston"),
            Model::CrostonOptimized => write!(f, "croston-opt"),
            Model::Sba => write!(f, "sba"),
            Model::Tsb => write!(f, "tsb"),
            Model::Adida => write!(f, "adida"),
            Model::Imapa => write!(f, "imapa"),
            Model::Global => write!(f, "global"),
            Model::Median(ms) => join(f, "median", ms),
            Model::Mean(ms) => join(f, "mean", ms),
        }
    }
}

impl FromStr for Model {
    type Err = String;

    /// A model name as [`Model`] displays it; combinations as `median(a+b+c)` or `mean(...)`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        for (prefix, median) in [("median(", true), ("mean(", false)] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let inner = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("unclosed combination `{s}`"))?;
                let ms = split_top(inner)
                    .into_iter()
                    .map(str::parse)
                    .collect::<Result<Vec<Model>, _>>()?;
                if ms.is_empty() {
                    return Err(format!("empty combination `{s}`"));
                }
                return Ok(if median {
                    Model::Median(ms)
                } else {
                    Model::Mean(ms)
                });
            }
        }
        Ok(match s {
            "naive" => Model::Naive,
            "snaive" | "seasonal-naive" => Model::SeasonalNaive,
            "snaive-long" => Model::SeasonalNaiveLong,
            "ses" => Model::Ses,
            "holt" => Model::Holt,
            "damped" => Model::Damped,
            "ets" => Model::Ets,
            "theta" => Model::Theta,
            "mstl" | "mstl-ets" => Model::Mstl(TrendModel::Ets),
            "mstl-ses" => Model::Mstl(TrendModel::Ses),
            "mstl-damped" => Model::Mstl(TrendModel::Damped),
            "mstl-theta" => Model::Mstl(TrendModel::Theta),
            "mstl-naive" => Model::Mstl(TrendModel::Naive),
            "croston" => Model::Croston,
            "croston-opt" => Model::CrostonOptimized,
            "sba" => Model::Sba,
            "tsb" => Model::Tsb,
            "adida" => Model::Adida,
            "imapa" => Model::Imapa,
            "global" => Model::Global,
            _ => {
                return Err(format!(
                    "unknown model `{s}` (known: {})",
                    Model::NAMES.join(", ")
                ));
            }
        })
    }
}

fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '+' | ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

impl Model {
    /// Names accepted by [`Model::from_str`], besides combinations.
    pub const NAMES: &'static [&'static str] = &[
        "naive",
        "snaive",
        "snaive-long",
        "ses",
        "holt",
        "damped",
        "ets",
        "theta",
        "mstl",
        "mstl-ses",
        "mstl-damped",
        "mstl-theta",
        "mstl-naive",
        "croston",
        "croston-opt",
        "sba",
        "tsb",
        "adida",
        "imapa",
        "global",
    ];
}

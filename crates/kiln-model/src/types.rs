//! The resolved model: what the parser produces and the engines consume.

use rust_decimal::Decimal;

use crate::Expr;

/// A position in a model file, 1-based, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

/// One problem found in a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub span: Span,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.span.line, self.span.column, self.message
        )
    }
}

/// The shared side of a brand's catalog: work centres and materials that
/// several products' routings and BOMs point at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Factory {
    pub work_centers: Vec<WorkCenter>,
    pub materials: Vec<Material>,
    /// Days a delivery can be promised on (the carrier's and the stores'),
    /// 1 = Monday .. 7 = Sunday; `[factory] delivery_weekdays`, Monday to
    /// Saturday unless the file says otherwise. Empty: any day.
    pub delivery_weekdays: Vec<u8>,
    /// `[sales]`: the tax in the prices and what delivery costs.
    pub sales: Sales,
    /// `[factory] packing_minutes`: from the end of production until a
    /// parcel is packed and ready for its carrier.
    pub packing_minutes: u32,
    /// `[factory] max_batch_units`: the most units a work order takes. A
    /// line of a SKU whose open work order would pass it starts another
    /// (a line larger than the limit gets a work order of its own). None:
    /// a work order takes every line of its SKU until it starts.
    pub max_batch_units: Option<u32>,
    /// `[packaging.*]`: what parcels are packed into.
    pub packaging: Vec<crate::Packaging>,
    /// `[carrier.*]`: who takes them. None: the flat `[sales] shipping` and
    /// each product's `ship_days`.
    pub carriers: Vec<crate::Carrier>,
    /// `[supplier.*]`: who delivers the materials.
    pub suppliers: Vec<crate::Supplier>,
    /// `[assembly.*]`: made items products use like materials; the catalog
    /// check expands them into each product (see [`crate::Assembly`]).
    pub assemblies: Vec<crate::Assembly>,
}

/// `[sales]` of a factory file: what a customer pays beyond the products.
/// Product prices include the tax at `tax_rate`, as consumer prices in the
/// EU and the UK do; delivery to an address costs `shipping` per order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sales {
    /// The tax's name on receipts, e.g. `VAT`.
    pub tax_name: String,
    /// Percent of tax included in every price; 0 shows none.
    pub tax_rate: Decimal,
    /// Per order delivered to an address; store pickups never pay it.
    pub shipping: Decimal,
    /// Orders whose goods come to at least this ship free.
    pub free_shipping_from: Option<Decimal>,
}

impl Sales {
    /// Delivery for an order of `goods`, picked up at a store or not, at
    /// the flat rate.
    pub fn shipping_for(&self, goods: Decimal, pickup: bool) -> Decimal {
        self.charge(goods, pickup, None)
    }

    /// Whether delivery costs nothing: a pickup, or goods from the
    /// free-shipping threshold.
    pub fn free(&self, goods: Decimal, pickup: bool) -> bool {
        pickup || self.free_shipping_from.is_some_and(|from| goods >= from)
    }

    /// Delivery for `goods`: what the carriers charge (`carrier`) or, for a
    /// brand without carriers, the flat rate; nothing when [`Self::free`].
    pub fn charge(&self, goods: Decimal, pickup: bool, carrier: Option<Decimal>) -> Decimal {
        if self.free(goods, pickup) {
            Decimal::ZERO
        } else {
            carrier.unwrap_or(self.shipping)
        }
    }

    /// The tax included in `total`, to the cent.
    pub fn tax_in(&self, total: Decimal) -> Decimal {
        if self.tax_rate.is_zero() {
            return Decimal::ZERO;
        }
        (total * self.tax_rate / (Decimal::ONE_HUNDRED + self.tax_rate)).round_dp(2)
    }
}

impl Factory {
    pub fn work_center(&self, id: &str) -> Option<&WorkCenter> {
        self.work_centers.iter().find(|w| w.id == id)
    }
    pub fn material(&self, id: &str) -> Option<&Material> {
        self.materials.iter().find(|m| m.id == id)
    }
    pub fn supplier(&self, id: &str) -> Option<&crate::Supplier> {
        self.suppliers.iter().find(|s| s.id == id)
    }
    pub fn assembly(&self, id: &str) -> Option<&crate::Assembly> {
        self.assemblies.iter().find(|a| a.id == id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkCenter {
    pub id: String,
    pub name: String,
    /// Identical machines that work in parallel.
    pub machines: u32,
    /// Productive minutes per machine on a working day.
    pub minutes_per_day: u32,
    /// Working weekdays, 1 = Monday .. 7 = Sunday.
    pub weekdays: Vec<u8>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    pub id: String,
    pub name: String,
    pub unit: String,
    /// Stock on hand when the catalog is loaded.
    pub on_hand: Decimal,
    /// Supplier lead time in calendar days.
    pub lead_days: u32,
    /// Minimum order quantity for a purchase.
    pub moq: Decimal,
    pub unit_cost: Decimal,
    /// Who delivers it (`[supplier.*]`); its lead time when the material
    /// sets none, and its delivery weekdays.
    pub supplier: Option<String>,
    /// Where `supplier` is written, for an unknown one.
    pub supplier_span: Span,
    /// Purchases come in multiples of it; 0: any quantity.
    pub lot_size: Decimal,
    /// From so many bought at once, a lower unit cost; `from` going up.
    pub price_breaks: Vec<crate::PriceBreak>,
    pub span: Span,
}

impl Material {
    /// The unit cost of buying `qty` at once: the highest price break it
    /// reaches, else `unit_cost`.
    pub fn unit_cost_for(&self, qty: Decimal) -> Decimal {
        self.price_breaks
            .iter()
            .rev()
            .find(|b| qty >= b.from)
            .map_or(self.unit_cost, |b| b.unit_cost)
    }
}

/// A customizable product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub base_price: Decimal,
    /// Calendar days from the end of production to delivery.
    pub ship_days: u32,
    /// Months of warranty from when a unit is made; 0: none.
    pub warranty_months: u32,
    /// The product's GS1 GTIN as 14 digits, when it has one: its units'
    /// labels then carry `/01/{gtin}/21/{serial}`.
    pub gtin: Option<String>,
    /// Base components: always present, never deselected.
    pub components: Vec<Component>,
    pub options: Vec<OptionDef>,
    pub rules: Vec<Rule>,
    /// Extensional constraints (`[[table]]`, XCSP relations, DIMACS clauses).
    pub tables: Vec<TableConstraint>,
    pub prices: Vec<PriceRule>,
    /// Materials per unit. Once the catalog check has expanded the
    /// assembly lines, their materials too (see `assemblies`).
    pub bom: Vec<BomLine>,
    /// The routing, in order. Once the catalog check has expanded the
    /// assembly lines, their operations first (see `assemblies`).
    pub operations: Vec<Operation>,
    /// `[[bom]]` lines naming an assembly (`assembly = "..."`), as written.
    /// [`check`](crate::check) expands each into `bom` and `operations` and
    /// records where in [`AssemblyUse::expanded`](crate::AssemblyUse);
    /// a product parsed alone ([`crate::parse_product`]) keeps them
    /// unexpanded.
    pub assemblies: Vec<crate::AssemblyUse>,
    /// `[[repair_operation]]`: the routing of a repair of one unit.
    pub repair_operations: Vec<Operation>,
    /// `[parcel]`: one unit's weight and size, for packing and carriers.
    pub parcel: Option<crate::Parcel>,
    pub preview: Preview,
    pub span: Span,
}

impl Product {
    pub fn option(&self, id: &str) -> Option<&OptionDef> {
        self.option_index(id).map(|i| &self.options[i])
    }

    /// The position in `options` of the option named `name`, by id or alias.
    pub fn option_index(&self, name: &str) -> Option<usize> {
        self.options.iter().position(|o| o.id == name).or_else(|| {
            self.options
                .iter()
                .position(|o| o.aliases.iter().any(|a| a == name))
        })
    }
}

/// A part of the product that is always there, e.g. a mug's handle.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OptionDef {
    pub id: String,
    pub name: String,
    /// Other names this option answers to wherever an option is named (a
    /// selection, `--set`): an imported DIMACS variable keeps its number here
    /// when its comment name became the id. Unique across the product's ids
    /// and aliases.
    pub aliases: Vec<String>,
    pub kind: OptionKind,
    /// An optional option may be left unset ("no engraving").
    pub optional: bool,
    /// The value used while the customer has not chosen one.
    pub default: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OptionKind {
    /// One of a list of values.
    Choice { values: Vec<Value> },
    /// A colour from a palette; values are `#rrggbb`.
    Color { values: Vec<Value> },
    /// Free text, e.g. an engraving or a monogram: at most `max_length`
    /// characters, never invisible ones, and only `characters` when given.
    Text {
        max_length: u32,
        characters: Option<crate::text::Characters>,
    },
    /// A number in a range, e.g. a body measurement. Never enumerated.
    Number {
        min: Decimal,
        max: Decimal,
        unit: String,
    },
}

impl OptionKind {
    /// The enumerable values of a choice or colour option.
    pub fn values(&self) -> &[Value] {
        match self {
            OptionKind::Choice { values } | OptionKind::Color { values } => values,
            _ => &[],
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            OptionKind::Choice { .. } => "choice",
            OptionKind::Color { .. } => "color",
            OptionKind::Text { .. } => "text",
            OptionKind::Number { .. } => "number",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What selections and rules use, e.g. `L` or `#1d3557`.
    pub id: String,
    /// What a customer reads, e.g. `450 ml`.
    pub label: String,
}

/// `if` implies `then`; a rule without `if` must always hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `rule-1`, `rule-2`, ... in file order unless the file names it.
    pub id: String,
    pub condition: Expr,
    pub then: Expr,
    pub message: String,
    pub span: Span,
}

/// Whether a table lists the allowed or the forbidden combinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Exactly the listed tuples are allowed.
    Supports,
    /// Every tuple except the listed ones is allowed.
    Conflicts,
}

/// An extensional constraint over choice options: the combinations of their
/// values that are allowed (`Supports`) or forbidden (`Conflicts`). Imported
/// XCSP relations and DIMACS clauses become tables; a clause is a conflicts
/// table with the one tuple that falsifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableConstraint {
    /// `table-1`, ... unless the file names it (XCSP constraint names, `c12`
    /// for the 12th DIMACS clause).
    pub id: String,
    /// Indexes into `Product::options`; at least one, each a choice or colour
    /// option, no option twice.
    pub scope: Vec<usize>,
    pub kind: TableKind,
    /// Flat tuples of `scope.len()` value indexes each (into the option's
    /// `kind.values()`), without duplicates.
    pub tuples: Vec<u32>,
    pub message: String,
    pub span: Span,
}

impl TableConstraint {
    pub fn arity(&self) -> usize {
        self.scope.len()
    }
    /// Number of tuples. Every table has at least one option in its scope.
    pub fn len(&self) -> usize {
        self.tuples.len() / self.scope.len().max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.tuples.is_empty()
    }
    pub fn tuple(&self, k: usize) -> &[u32] {
        let a = self.scope.len();
        &self.tuples[k * a..k * a + a]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceRule {
    pub label: String,
    pub condition: Expr,
    pub add: Decimal,
    /// When set, `add` is charged per character of this text option.
    pub per_char_of: Option<String>,
    /// A quantity break: the rule holds from this many units on (of the
    /// line, or of the product in the whole order); 1: always.
    pub min_quantity: u32,
    pub quantity_of: QuantityOf,
    pub span: Span,
}

/// Which units a quantity break counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuantityOf {
    /// The line's quantity.
    #[default]
    Line,
    /// The units of this product in the whole order, over all its lines.
    Order,
}

impl QuantityOf {
    pub fn name(self) -> &'static str {
        match self {
            QuantityOf::Line => "line",
            QuantityOf::Order => "order",
        }
    }
}

/// A quantity that may depend on one option's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    Fixed(Decimal),
    ByValue {
        option: String,
        by_value: Vec<(String, Decimal)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BomLine {
    pub material: String,
    /// Per unit of product.
    pub qty: Quantity,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: String,
    pub name: String,
    pub work_center: String,
    /// Run time per unit, in minutes.
    pub minutes: Quantity,
    /// Changeover time once per batch of one SKU, in minutes.
    pub setup_minutes: Decimal,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preview {
    /// SVG viewBox, e.g. `0 0 200 200`.
    pub view_box: String,
    pub layers: Vec<PreviewLayer>,
    /// Draws the product in proportion to one option (its size).
    pub scale: Option<PreviewScale>,
}

/// `[preview.scale]`: every layer not marked `scale = false` is drawn
/// scaled by the factor of the chosen value, around `origin` (the point that
/// stays put, say the middle of the product's foot).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewScale {
    /// Per value of one choice or color option, like a BOM's `qty`.
    pub factor: Quantity,
    pub origin: (Decimal, Decimal),
}

/// An SVG fragment drawn when `condition` holds. `{option}` in the fragment is
/// replaced by the option's value, XML-escaped.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewLayer {
    pub svg: String,
    pub condition: Expr,
    /// `fit = 52`: the layer's text may take at most this width (in the
    /// view box's units); a longer one is drawn narrower to fit.
    pub fit: Option<u32>,
    /// `false` draws the layer as it is whatever `[preview.scale]` says (a
    /// background, a caption).
    pub scaled: bool,
    pub span: Span,
}

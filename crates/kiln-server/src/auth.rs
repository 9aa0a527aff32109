//! Who is calling: extractors that check the `Authorization: Bearer <key>`
//! header once, so handlers never do.
//!
//! [`Authorized<N>`] is a brand's key holding the scope `N` names, for the
//! brand in the path (`/brands/{brand}/...`): no key or a revoked one is
//! 401, a key without the scope 403 naming it, another brand's key 404 (the
//! same as a brand that does not exist). [`PlatformAdmin`] is a platform
//! admin key.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use kiln_app::{Actor, Caller, Error};
use kiln_domain::{AdminKey, Brand, Scope};

use crate::AppState;
use crate::error::ApiError;

/// A scope a route needs, as a type.
pub trait Needs: Send + Sync + 'static {
    const SCOPE: Scope;
}

macro_rules! scopes {
    ($($name:ident => $scope:ident),+ $(,)?) => {
        $(
            #[doc = concat!("The scope `", stringify!($scope), "`.")]
            pub struct $name;
            impl Needs for $name {
                const SCOPE: Scope = Scope::$scope;
            }
        )+
    };
}

scopes!(
    CatalogWrite => CatalogWrite,
    OrdersRead => OrdersRead,
    OrdersWrite => OrdersWrite,
    OrdersOnline => OrdersOnline,
    FactoryRead => FactoryRead,
    FactoryWrite => FactoryWrite,
    OperationsWrite => OperationsWrite,
    PlanningRead => PlanningRead,
    PlanningWrite => PlanningWrite,
    WebhooksWrite => WebhooksWrite,
    ProfilesRead => ProfilesRead,
    ProfilesWrite => ProfilesWrite,
    BrandAdmin => Admin,
);

/// A request by a key of the path's brand that holds the scope `N`.
pub struct Authorized<N: Needs> {
    pub brand: Brand,
    pub caller: Caller,
    _needs: PhantomData<N>,
}

impl<N: Needs> Authorized<N> {
    pub fn slug(&self) -> &str {
        self.brand.slug.as_str()
    }

    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::App(Error::Unauthorized))
}

impl<N: Needs> FromRequestParts<Arc<AppState>> for Authorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = state.app.authenticate(bearer(parts)?).await?;
        let slug = path_brand(parts, state).await?;
        let brand = caller.brand(&slug, N::SCOPE)?.clone();
        Ok(Authorized {
            brand,
            caller,
            _needs: PhantomData,
        })
    }
}

/// The slug of the brand the path names (`/brands/{brand}/...`).
async fn path_brand(parts: &mut Parts, state: &Arc<AppState>) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found("no such route"))?;
    params
        .iter()
        .find(|(k, _)| *k == "brand")
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| ApiError::not_found("no brand in the path"))
}

/// A request that may come without a key (a public checkout), or with one of
/// the path's brand that must hold the scope `N`: a key that is sent is
/// checked like [`Authorized`] (revoked 401, missing scope 403).
pub struct MaybeAuthorized<N: Needs> {
    /// The brand's slug from the path.
    pub slug: String,
    /// The key that came with the request, holding the scope `N`.
    pub caller: Option<Caller>,
    _needs: PhantomData<N>,
}

impl<N: Needs> MaybeAuthorized<N> {
    /// Whether a key came with the request and holds `scope` too.
    pub fn holds(&self, scope: Scope) -> bool {
        self.caller
            .as_ref()
            .is_some_and(|c| c.brand(&self.slug, scope).is_ok())
    }
}

impl<N: Needs> FromRequestParts<Arc<AppState>> for MaybeAuthorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let keyed = parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION);
        let (slug, caller) = if keyed {
            let auth = Authorized::<N>::from_request_parts(parts, state).await?;
            (auth.slug().to_string(), Some(auth.caller))
        } else {
            (path_brand(parts, state).await?, None)
        };
        Ok(MaybeAuthorized {
            slug,
            caller,
            _needs: PhantomData,
        })
    }
}

/// A request by a platform admin key.
pub struct PlatformAdmin {
    pub key: AdminKey,
}

impl PlatformAdmin {
    pub fn actor(&self) -> Actor {
        Actor::Admin(self.key.id.clone())
    }
}

impl FromRequestParts<Arc<AppState>> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = state.app.authenticate(bearer(parts)?).await?;
        Ok(PlatformAdmin {
            key: caller.admin()?.clone(),
        })
    }
}

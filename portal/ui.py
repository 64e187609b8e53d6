"""What every portal page shares: configuration, sign-in, loading with friendly errors.

The portal only presents: every figure comes from ``shipyard`` services (catalog, health, costs).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st
from shipyard import formatting
from shipyard.catalog import Portfolio, load_portfolio
from shipyard.errors import ServiceUnavailable, UserError
from shipyard.identity.credentials import Credentials
from shipyard.identity.portal import (
    ENV_IDENTITY,
    PROXY_HEADER,
    IdentityMisconfigured,
    identity_mode,
    open_platform,
    portal_sign_in,
    proxy_person,
    view_roles,
)
from shipyard.platform.portal import PortalSettings, portal_settings

# red/amber/green as cell colours (emoji need a font that headless browsers and some desktops lack)
COLORS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "ok": "#2e7d32", "warning": "#ef8f00",
          "over": "#c62828", "up": "#2e7d32", "down": "#c62828", "not configured": "#9e9e9e"}  # fmt: skip
EMPTY_HELP = (
    "No projects on this platform yet. Create one from the project template:\n\n"
    "```bash\nshipyard new my-project --team demo\ncd my-project && git push\n```\n\n"
    "Its first `git push` runs CI, which records the project, its CI runs and its model here."
)


def page(title: str, icon: str = "⚓") -> None:
    st.set_page_config(page_title=f"Shipyard · {title}", page_icon=icon, layout="wide")
    st.title(title)


@st.cache_resource(ttl=60)
def _config() -> PortalSettings:
    return portal_settings()


def config() -> PortalSettings:
    try:
        return _config()
    except UserError as exc:
        st.error(f"The portal cannot read its platform spec: {exc.message}")
        st.caption(f"fix: {exc.fix}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


@st.cache_data(ttl=300, show_spinner=False)
def _open_platform(mlflow_url: str) -> bool:
    return open_platform(mlflow_url)


def _identity_mode() -> str:
    """basic (the form) or proxy-header, as the portal was started; a setting that cannot be trusted
    stops every page."""
    try:
        return identity_mode(st.get_option("server.address"))
    except IdentityMisconfigured as exc:
        st.error(f"The portal's sign-in is misconfigured and it shows nothing: {exc}")
        st.caption(f"fix: unset {ENV_IDENTITY} for the sign-in form, or run Streamlit on 127.0.0.1 behind "
                   "the signing-in proxy (docs/platform-engineer.md, the portal)")  # fmt: skip
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def _proxy_sign_in() -> str:
    """The person the signing-in proxy (oauth2-proxy under OIDC) names in X-Forwarded-Email, read on
    every run from the request that opened this session: no form, no password. Without the header
    (a request that did not come through the proxy) the page stops."""
    user = proxy_person(st.context.headers)
    if not user:
        st.error("No signed-in person came with this request: open the portal through its sign-in address.")
        st.stop()
        raise RuntimeError  # unreachable: st.stop() ends the script run
    if st.session_state.get("user") != user:
        for key in ("credentials", "role"):
            st.session_state.pop(key, None)
    st.session_state["user"] = user
    st.sidebar.caption(f"signed in as **{user}** (single sign-on)")
    st.sidebar.markdown("[Sign out](/oauth2/sign_out)")
    return user


def registry_caller() -> tuple[Credentials, str | None]:
    """The login the registry is called with for the signed-in person, and who it acts for: the
    person's own login (form), or the portal's account on behalf of the person (proxy-header)."""
    if _identity_mode() == PROXY_HEADER:
        from shipyard.identity.session import current

        account = current(None)  # the portal's own account, from its environment
        if account is None:
            raise UserError(
                "the portal has no MLflow account of its own to call the registry with",
                "set MLFLOW_TRACKING_USERNAME/PASSWORD to the portal's account (shipyard-portal)",
            )
        return account, st.session_state["user"]
    return Credentials(*st.session_state["credentials"]), None


def sign_in(cfg: PortalSettings) -> str:
    """The signed-in person (a form against the platform's identities until there is one; stops). In
    proxy-header mode the person the signing-in proxy names, without a form."""
    if _identity_mode() == PROXY_HEADER:
        return _proxy_sign_in()
    user = st.session_state.get("user")
    if user:
        st.sidebar.caption(f"signed in as **{user}**")
        if st.sidebar.button("Sign out"):
            for key in ("user", "credentials", "role"):
                st.session_state.pop(key, None)
            st.rerun()
        return user
    st.subheader("Sign in")
    if cfg.endpoints.mlflow and _open_platform(cfg.endpoints.mlflow):
        st.warning(
            "This platform's MLflow has no login: anyone can read and write it, and signing in here "
            "checks no password. fix: run MLflow with basic-auth (`shipyard up` and the cluster do)"
        )
    with st.form("sign-in"):
        email = st.text_input("Email")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        address = st.context.ip_address  # None for a local browser's loopback (a mock under AppTest)
        address = address if isinstance(address, str) else ""
        problem = portal_sign_in(cfg.spec, cfg.endpoints.mlflow, email, password, address)
        if problem:
            st.error(problem)
        else:
            st.session_state["user"] = email.strip().lower()
            st.session_state["credentials"] = (email.strip().lower(), password)
            st.rerun()
    st.stop()
    raise RuntimeError  # unreachable: st.stop() ends the script run


def role(cfg: PortalSettings | None = None) -> str:
    """The view the signed-in person's roles allow (a choice only among their own roles)."""
    cfg = cfg or config()
    user = sign_in(cfg)
    allowed = view_roles(cfg.spec, user)
    if not allowed:
        st.error(f"{user} has no role on platform {cfg.spec.platform.name}: ask a platform admin")
        st.stop()
    current = st.session_state.get("role")
    current = current if current in allowed else allowed[0]
    # on every page, for everyone (as the docs show it): a choice among one's own roles, fixed with one
    only = len(allowed) == 1
    chosen = st.sidebar.radio(
        "View as",
        allowed,
        index=allowed.index(current),
        key="_role_radio",
        disabled=only,
        help="your only role on this platform" if only else "the views your roles allow",
    )
    st.session_state["role"] = chosen
    return chosen


def owner_choice(owners: list[str]) -> str | None:
    """For the project-owner role: whose projects to show."""
    if not owners:
        return None
    current = st.session_state.get("owner")
    index = owners.index(current) if current in owners else 0
    chosen = st.sidebar.selectbox("Owner", owners, index=index, key="_owner_select")
    st.session_state["owner"] = chosen
    return chosen


def audit_view(cfg: PortalSettings, required: bool):
    """The audit log's view, or None. A database that does not answer is said on the page; a page
    that is only the audit log stops there, the others go on without it."""
    from shipyard.audit.view import load_audit

    try:
        return load_audit(cfg.platform.data_dir, cfg.endpoints.mlflow)
    except ServiceUnavailable as exc:
        st.error(f"**The audit log is unreachable** ({exc.service} at {exc.url or '(not configured)'}): "
                 f"{exc.detail}")  # fmt: skip
        st.caption(f"fix: {exc.fix}")
        if required:
            st.stop()
        return None


def load(cfg: PortalSettings, with_costs: bool = True) -> Portfolio:
    """The portfolio, or a page that says which service is down (and stops)."""
    refresh = st.sidebar.button("Refresh data", help=f"data is cached for {cfg.ttl_s:g} s")
    try:
        portfolio = load_portfolio(
            cfg.spec, cfg.endpoints, cfg.prefix, with_costs=with_costs, ttl_s=cfg.ttl_s, refresh=refresh
        )
    except ServiceUnavailable as exc:
        st.error(f"**{exc.service} is unreachable** at {exc.url or '(not configured)'}: {exc.detail}")
        st.caption(f"fix: {exc.fix}. The Platform page shows every service's state.")
        st.stop()
        raise
    except UserError as exc:
        st.error(exc.message)
        st.caption(f"fix: {exc.fix}")
        st.stop()
        raise
    st.sidebar.caption(
        f"MLflow {cfg.endpoints.mlflow} · read {portfolio.snapshot.loaded_at:%H:%M:%S} UTC"
        + (f" · prefix `{cfg.prefix}`" if cfg.prefix else "")
    )
    return portfolio


def service_warnings(portfolio: Portfolio, only: tuple[str, ...] | None = None) -> None:
    for service, message in portfolio.errors.items():
        if only is None or service in only:
            st.warning(f"**{service}**: {message}. The page shows what it can without it.")


def portfolio_page(title: str, with_costs: bool = False) -> tuple[PortalSettings, str, Portfolio]:
    """The start every portfolio page shares: title, config, role, data, service warnings, empty state."""
    page(title)
    cfg = config()
    chosen = role(cfg)
    portfolio = load(cfg, with_costs=with_costs)
    service_warnings(portfolio)
    empty_state(portfolio)
    return cfg, chosen, portfolio


def empty_state(portfolio: Portfolio) -> None:
    if not portfolio.snapshot.projects:
        st.info(EMPTY_HELP)
        st.stop()


def colored(df: pd.DataFrame, *columns: str, formats: dict[str, str] | None = None):
    """``df`` with the status-like ``columns`` painted red/amber/green (``formats``: per-column format)."""

    def paint(value: object) -> str:
        color = COLORS.get(str(value))
        return f"background-color: {color}; color: white; font-weight: 600" if color else ""

    present = [c for c in columns if c in df.columns]
    if not present:
        return df
    styled = df.style.map(paint, subset=present).format(precision=2)
    return styled.format({c: f for c, f in (formats or {}).items() if c in df.columns})


def when(value: dt.datetime | None) -> str:
    return formatting.when(value)


# integer ticks on every count axis (a count is never 0.5); the ML Test Score in half-point bins over
# its whole 0-7 range, so a portfolio of equal scores is one narrow bar, not one bar as wide as the axis
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)
SCORE_BINS = alt.Bin(extent=[0, 7.5], step=0.5)
TIME_FORMAT = formatting.CHART_TIME_FORMAT
TIME_AXIS = alt.Axis(format=formatting.CHART_TIME_FORMAT, labelAngle=-30)

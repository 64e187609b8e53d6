"""The dated price table costs are computed with."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from shipyard.spec import default_prices as prices
from shipyard.spec.fields import Price, Strict

# --- pricing ----------------------------------------------------------------------------------


DEFAULT_CURRENCY = "USD"


class Pricing(Strict):
    """A dated price table. Omit ``pricing`` in a spec to use the built-in AWS us-east-1 table."""

    as_of: dt.date = dt.date.fromisoformat(prices.AS_OF)
    source: str = Field(prices.SOURCE, min_length=1)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    instance_hour: dict[str, Price] = Field(
        prices.INSTANCE_HOUR, description="on-demand price per instance type per hour"
    )
    spot_discount: float = Field(0.65, ge=0, lt=1, description="fraction saved on spot capacity")
    gpu_hour: dict[str, Price] = Field(prices.GPU_HOUR, description="price per GPU hour by GPU type")
    storage_gb_month: Price = prices.STORAGE_GB_MONTH
    block_storage_gb_month: Price = prices.BLOCK_STORAGE_GB_MONTH
    database_hour: dict[str, Price] = prices.DATABASE_HOUR
    database_storage_gb_month: Price = prices.DATABASE_STORAGE_GB_MONTH
    control_plane_hour: Price = prices.CONTROL_PLANE_HOUR
    control_plane_extended_hour: Price = Field(
        prices.CONTROL_PLANE_EXTENDED_HOUR, description="EKS: a version in extended support"
    )
    nat_gateway_hour: Price = prices.NAT_GATEWAY_HOUR
    load_balancer_hour: Price = prices.LOAD_BALANCER_HOUR

    @model_validator(mode="after")
    def _no_mixed_currency_defaults(self) -> Pricing:
        # The built-in table is in USD: a table in another currency must not silently borrow from it.
        if self.currency != DEFAULT_CURRENCY:
            missing = [
                name
                for name in type(self).model_fields
                # control_plane_extended_hour is EKS-only: checked against the platform (PlatformSpec)
                if name not in ("as_of", "source", "currency", "spot_discount", "control_plane_extended_hour")
                and name not in self.model_fields_set
            ]
            if missing:
                raise ValueError(
                    f"a price table in {self.currency} must set every price itself (the built-in table is "
                    f"{DEFAULT_CURRENCY}); missing: {', '.join(missing)}"
                )
        return self

    def instance_price(self, instance_type: str, capacity: str = "on_demand") -> float:
        try:
            price = self.instance_hour[instance_type]
        except KeyError:
            raise KeyError(instance_type) from None
        return price * (1 - self.spot_discount) if capacity == "spot" else price

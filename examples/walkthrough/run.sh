#!/usr/bin/env bash
# The walkthrough's commands (README "Integrate your own service"), from the
# repository root after the build. tests/examples/walkthrough_test.py runs
# this very file with other ports and a temporary DATA directory, then checks
# every database.
set -euo pipefail
# [snippet run]
BUILD=${BUILD:-build}              # the build directory
DATA=${DATA:-$(mktemp -d)}         # where every database goes
TCCD=${TCCD:-127.0.0.1:7420} CHECKOUT_STATUS=${CHECKOUT_STATUS:-127.0.0.1:7600}
INVENTORY=${INVENTORY:-127.0.0.1:7001} COUPON=${COUPON:-127.0.0.1:7002}
LOYALTY=${LOYALTY:-127.0.0.1:7003}
W=$BUILD/examples/walkthrough
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT   # stop everything started here on exit

# The coordinator, and the three participants (each its own process and database).
$BUILD/coordinator/tccd --listen=$TCCD --data=$DATA/tccd.db --log_level=warn &
$W/inventory $DATA/inventory.db $INVENTORY &
$W/coupon $DATA/coupon.db $COUPON &
PYTHONPATH=participant-sdk/python:$BUILD/participant-sdk/python/gen \
  python3 examples/walkthrough/loyalty.py $DATA/loyalty.db $LOYALTY &
for address in $TCCD $INVENTORY $COUPON $LOYALTY; do   # wait until each one listens
  until (exec 3<>/dev/tcp/${address%:*}/${address##*:}) 2>/dev/null; do sleep 0.1; done
done

# One checkout, then the same request again: the second run replays the answer.
checkout() {
  $W/checkout --db=$DATA/checkout.db --coordinator=$TCCD --status=$CHECKOUT_STATUS \
    --inventory=$INVENTORY --coupon=$COUPON --loyalty=$LOYALTY "$@"
}
checkout --request_id=r1 --sku=book --quantity=2 --coupon_code=WELCOME --user=alice
checkout --request_id=r1 --sku=book --quantity=2 --coupon_code=WELCOME --user=alice
# Another request with the same coupon: refused by the coupon service, rolled back.
checkout --request_id=r2 --sku=book --quantity=1 --coupon_code=WELCOME --user=bob

# What tccd knows: the list, and one transaction with its branches and timeline.
for gid in checkout-r1 checkout-r2; do   # until every Confirm / Cancel is through
  until $BUILD/tools/tccctl/tccctl --addr=$TCCD show $gid | grep -E 'COMMITTED|ROLLED_BACK' >/dev/null; do
    sleep 0.1
  done
done
$BUILD/tools/tccctl/tccctl --addr=$TCCD list
$BUILD/tools/tccctl/tccctl --addr=$TCCD show checkout-r1
# [end snippet]

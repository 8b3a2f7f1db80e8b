#!/bin/sh
# `switchboard sign` end to end: each provider's headers for the official
# vectors (connectors.md), computed by the plugins' sign callbacks; the
# names it accepts (plugin, plugin.trigger, alias); its refusals; and that
# core/cmd_sign.c itself names no provider (the schemes live in plugins).
# usage: sign.sh SWITCHBOARD SOURCE_DIR PLUGIN_DIR
set -u
bin=$1 src=$2 plugins=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

sign() {
    "$bin" sign -c /dev/null --plugins "$plugins" "$@"
}

# expect NAME WANT: the output of the last command ($tmp/out) is exactly WANT
expect() {
    if [ "$(cat "$tmp/out")" != "$2" ]; then
        echo "FAIL: $1"; echo "  want: $2"; echo "  got:  $(cat "$tmp/out") $(cat "$tmp/err")"
        status=1
    fi
}

# expect_err NAME RC TEXT: the last command exited RC and said TEXT on stderr
expect_err() {
    if [ "$rc" -ne "$2" ] || ! grep -qF -- "$3" "$tmp/err"; then
        echo "FAIL: $1: exit $rc, stderr: $(cat "$tmp/err")"; status=1
    fi
}

# Stripe (stripe-node fixtures: whsec_test_secret, 2-space JSON, t=1700000000)
printf '{\n  "id": "evt_test_webhook",\n  "object": "event"\n}' >"$tmp/stripe"
sign stripe --secret whsec_test_secret --timestamp 1700000000 <"$tmp/stripe" >"$tmp/out" 2>"$tmp/err"
expect "stripe" "Stripe-Signature: t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150"
sign stripe.webhook --secret whsec_test_secret --timestamp 1700000000 <"$tmp/stripe" >"$tmp/out" 2>"$tmp/err"
expect "stripe.webhook" "Stripe-Signature: t=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150"

# Slack (python-slack-sdk's vector: a slash command body)
printf '%s' 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c' >"$tmp/slack"
want_slack="X-Slack-Request-Timestamp: 1531420618
X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
sign slack --secret 8f742231b10e8888abcd99yyyzzz85a5 --timestamp 1531420618 <"$tmp/slack" >"$tmp/out" 2>"$tmp/err"
expect "slack" "$want_slack"
sign slack.command --secret 8f742231b10e8888abcd99yyyzzz85a5 --timestamp 1531420618 <"$tmp/slack" >"$tmp/out" 2>"$tmp/err"
expect "slack.command" "$want_slack"

# Trello (connectors.md 4.2) and its callback URL
printf '%s' '{"hello":"world"}' >"$tmp/trello"
sign trello --secret secret --url https://example.com/webhooks <"$tmp/trello" >"$tmp/out" 2>"$tmp/err"
expect "trello" "X-Trello-Webhook: FwPAcuGe9EP/+SbXFWjnEVTa0zw="
sign trello --secret secret --set url=https://example.com/webhooks <"$tmp/trello" >"$tmp/out" 2>"$tmp/err"
expect "trello --set url" "X-Trello-Webhook: FwPAcuGe9EP/+SbXFWjnEVTa0zw="
sign trello --secret secret <"$tmp/trello" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "trello without --url" 2 "give --url, the callback URL exactly as registered with Trello"

# Standard Webhooks (the spec's libraries' vector), by alias and by plugin
printf '%s' '{"test": 2432232314}' >"$tmp/std"
want_std="webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
webhook-timestamp: 1614265330
webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
sign standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --timestamp 1614265330 \
    --id msg_p5jXN8AQM9LWM0D4loKWxJek <"$tmp/std" >"$tmp/out" 2>"$tmp/err"
expect "standard" "$want_std"
sign http --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --timestamp 1614265330 \
    --set id=msg_p5jXN8AQM9LWM0D4loKWxJek <"$tmp/std" >"$tmp/out" 2>"$tmp/err"
expect "http" "$want_std"
sign standard --secret not-base64! <"$tmp/std" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "standard with a bad secret" 2 "the secret must be whsec_ followed by base64"

# Shopify: the HMAC (openssl) and every header Shopify sends, options set
printf '%s' '{"id":820982911946154508,"name":"#1001"}' >"$tmp/shop"
hmac=$(openssl dgst -sha256 -hmac shpss_test -binary <"$tmp/shop" | base64)
sign shopify --secret shpss_test --timestamp 1700000000 --set topic=orders/paid \
    --set shop=my-store --set webhook_id=b54557e4-bdd9-4b37-8a5f-bf7d70bcd043 \
    --set event_id=98880550-7158-44d4-b7cd-2c97c8a091b5 <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"
expect "shopify" "X-Shopify-Hmac-Sha256: $hmac
X-Shopify-Topic: orders/paid
X-Shopify-Shop-Domain: my-store.myshopify.com
X-Shopify-API-Version: 2025-01
X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043
X-Shopify-Triggered-At: 2023-11-14T22:13:20.000Z
X-Shopify-Event-Id: 98880550-7158-44d4-b7cd-2c97c8a091b5"
sign shopify --secret shpss_test --set topik=orders/paid <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "shopify with a misspelt option" 2 "shopify.webhook takes no option 'topik=orders/paid' (did you mean 'topic'?)"

# HubSpot (connectors.md 8.2): v3 (the timestamp in milliseconds) over the
# decoded URL, and v1/v2; Asana (9.1); WPForms (11)
hs=yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy
printf '%s' '{"example_field":"example_value"}' >"$tmp/hubspot"
sign hubspot --secret $hs --timestamp 1700000000 --url https://www.example.com/webhook_uri \
    <"$tmp/hubspot" >"$tmp/out" 2>"$tmp/err"
expect "hubspot v3" "X-HubSpot-Signature-v3: rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=
X-HubSpot-Request-Timestamp: 1700000000000"
printf '%s' '[{"eventId":1}]' >"$tmp/hubspot-q"
sign hubspot --secret $hs --timestamp 1700000000 \
    --url 'https://www.example.com/webhook_uri?portal=62515&email=a%40b.com' \
    <"$tmp/hubspot-q" >"$tmp/out" 2>"$tmp/err"
expect "hubspot v3 with a query" "X-HubSpot-Signature-v3: Cgc/mIGjqw94bLNLLdMxWJf9LQyyEU4MdEdTq9Qfs84=
X-HubSpot-Request-Timestamp: 1700000000000"
sign hubspot --secret $hs --set version=v2 --url https://www.example.com/webhook_uri \
    <"$tmp/hubspot" >"$tmp/out" 2>"$tmp/err"
expect "hubspot v2" "X-HubSpot-Signature: 9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900
X-HubSpot-Signature-Version: v2"
sign hubspot --secret $hs <"$tmp/hubspot" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "hubspot v3 without --url" 2 "give --url"
printf '%s' '{"events":[]}' >"$tmp/asana"
sign asana --secret b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81 \
    <"$tmp/asana" >"$tmp/out" 2>"$tmp/err"
expect "asana" "X-Hook-Signature: 10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853"
printf '%s' '{"email":"ada@example.com","first_name":"Ada","interests":"CRM||Automation","page":"https:\/\/example.com\/contact\/"}' >"$tmp/wpforms"
sign wpforms --secret 'Xq7#pL2!vR9@kM4$wN8%tB3^yH6&zC1*dF5(gJ0)sA2-eU7_iO4+rT9=lK3~mW6b' \
    --timestamp 1700000000 --id 3 <"$tmp/wpforms" >"$tmp/out" 2>"$tmp/err"
expect "wpforms" "X-WPForms-Webhook-Signature: t=1700000000,v=a7e6e6dae4a3aa7ee9d4060d9d8bc0139fdd6c181d5f9137f84bdb739ea5df23
X-WPForms-Webhook-Id: 3"

# names it does not know, and a plugin that does not sign
sign nope --secret s <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "unknown provider" 2 "unknown provider 'nope'; known: "
grep -qF "standard (http.webhook)" "$tmp/err" || { echo "FAIL: the known names omit aliases"; status=1; }
sign mailchimp --secret s <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "mailchimp" 2 "plugin 'mailchimp' has no trigger that signs"
sign stripe.events --secret s <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "a trigger that does not sign" 2 "trigger 'stripe.events' has no signing scheme"
sign stripe <"$tmp/shop" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_err "no --secret" 2 "usage: switchboard sign NAME --secret S"

# the core knows no signing scheme of its own
if grep -Eiq 'stripe|slack|shopify|trello|mailchimp|hubspot|asana|salesforce|wpforms|standard|svix|whsec' \
    "$src/core/cmd_sign.c"; then
    echo "FAIL: core/cmd_sign.c names a provider:"
    grep -Ein 'stripe|slack|shopify|trello|mailchimp|hubspot|asana|salesforce|wpforms|standard|svix|whsec' \
        "$src/core/cmd_sign.c"
    status=1
fi
exit $status

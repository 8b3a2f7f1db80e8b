/*
 * libFuzzer harness for salesforce.outbound_message's receive: Outbound
 * Messages are unsigned, so every byte of a SOAP body reaches the XML
 * parser and the walk over it from anyone who can reach the URL. The
 * plugin's outbound.c and orgid.c are compiled in and driven through the
 * core's host table, as the engine does.
 *   cmake -DSB_FUZZ=ON -DCMAKE_C_COMPILER=clang .. && make fuzz_salesforce_outbound
 *   ./tests/fuzz_salesforce_outbound -max_total_time=60
 * A seed worth starting from is the message in tests/unit/test_salesforce_vectors.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call.h"
#include "salesforce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *state;

/* The trigger set up once, for organization 00D5e000000AbCdEAK. */
static void set_up(void)
{
    struct sb_call c;
    call_init(&c, CALL_SETUP, "salesforce.outbound_message");
    struct json_object *params = json_object_new_object();
    json_object_object_add(params, "organization_id", json_object_new_string("00D5e000000AbCdEAK"));
    c.params = params;
    c.state_slot = &state;
    if (salesforce_outbound_setup(&core_host, &c) != SB_OK || !state)
        abort();
    call_release(&c);
    json_object_put(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!state)
        set_up();
    /* the core hands receive a NUL after the body */
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct sb_request req = {
        .size = sizeof(req),
        .method = "POST",
        .path = "/hooks/sf",
        .hook = "sf",
        .query = "",
        .body = (const unsigned char *)body,
        .body_len = size,
        .content_type = "text/xml; charset=utf-8",
        .remote_addr = "127.0.0.1",
    };
    struct receive_result rx;
    memset(&rx, 0, sizeof(rx));
    struct sb_call c;
    call_init(&c, CALL_RECEIVE, "salesforce.outbound_message");
    c.state = state;
    c.rx = &rx;
    c.rx_body = &req;
    enum sb_status st = salesforce_outbound_receive(&core_host, &c, &req);
    /* accepted: an Ack and events with ids and types; refused: no event */
    if (st == SB_OK && !rx.rejected) {
        if (rx.status != 200 || !rx.body || !strstr(rx.body, "<Ack>true</Ack>"))
            abort();
        for (size_t i = 0; i < rx.n_events; i++)
            if (!rx.events[i].id || !*rx.events[i].id || !rx.events[i].type)
                abort();
    } else if (rx.rejected && rx.n_events != 0) {
        abort();
    }
    call_release(&c);
    receive_result_release(&rx);
    free(body);
    return 0;
}

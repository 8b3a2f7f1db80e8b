/* The trello plugin's descriptor tables. */
#include "trello.h"

static const struct sb_trigger triggers[] = {
    {
        .name = "webhook",
        .summary = "Receive Trello webhook actions (createCard, updateCard, commentCard, ...), "
                   "verified by X-Trello-Webhook; answers Trello's HEAD check",
        .output = "the body as Trello sent it: action (id, type, date, data.card, data.list, "
                  "data.board, memberCreator) and model (the watched board, list or card); "
                  "trigger.id is action.id, trigger.type is action.type",
        .kind = SB_TRIGGER_HTTP,
        .methods = SB_METHOD_POST | SB_METHOD_HEAD,
        .params = trello_webhook_params,
        .validate = trello_webhook_validate,
        .setup = trello_webhook_setup,
        .teardown = trello_webhook_teardown,
        .receive = trello_webhook_receive,
        .sign = trello_webhook_sign,
        .sign_params = trello_sign_params,
        .register_hook = trello_hooks_register,
        .unregister_hook = trello_hooks_unregister,
        .list_hooks = trello_hooks_list,
    },
    SB_END,
};

/* Trello allows 100 requests per 10 s per token (and 300 per key). */
static const struct sb_limit per_token = {
    .key = "trello:{{ token }}",
    .rate = 100,
    .per_ms = 10000,
};

static const struct sb_action actions[] = {
    {
        .name = "create_card",
        .summary = "Create a card in a list (POST /1/cards)",
        .output = "the card as Trello returns it: id, name, desc, idList, idBoard, url, shortUrl, "
                  "shortLink, ... (steps.<name>.url links to it)",
        .params = trello_create_card_params,
        .limit = &per_token,
        .validate = trello_create_card_validate,
        .run = trello_create_card_run,
    },
    {
        .name = "add_comment",
        .summary = "Comment on a card (POST /1/cards/{card}/actions/comments)",
        .output = "the commentCard action: id, type, date, data.text, data.card",
        .params = trello_add_comment_params,
        .limit = &per_token,
        .validate = trello_common_validate,
        .run = trello_add_comment_run,
    },
    {
        .name = "move_card",
        .summary = "Move a card to another list (PUT /1/cards/{card} with idList)",
        .output = "the card after the move: id, idList, url, shortUrl, ...",
        .params = trello_move_card_params,
        .limit = &per_token,
        .validate = trello_common_validate,
        .run = trello_move_card_run,
    },
    {
        .name = "request",
        .summary = "Call any Trello REST endpoint (GET /1/boards/{id}/lists, ...) with the "
                   "same authentication, limits and retries",
        .output = "status (int) and body (the parsed JSON answer)",
        .params = trello_request_params,
        .limit = &per_token,
        .validate = trello_request_validate,
        .run = trello_request_run,
    },
    SB_END,
};

static const struct sb_plugin trello_plugin = {
    .name = "trello",
    .version = "1.0.0",
    .summary = "Trello: webhook actions in, cards, comments and moves out",
    .triggers = triggers,
    .actions = actions,
};

SB_PLUGIN_DEFINE(trello_plugin)

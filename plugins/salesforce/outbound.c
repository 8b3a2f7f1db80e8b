/*
 * salesforce.outbound_message: Salesforce Outbound Messages (connectors.md
 * section 10.1).
 *
 * A workflow rule or flow sends a SOAP 1.1 message of up to 100
 * Notifications, each one sObject. Salesforce signs nothing: the only
 * check in the message is its OrganizationId, compared here in the
 * 18-character form with the workflow's organization_id; the rest of the
 * protection is TLS, the client certificate Salesforce can present, and
 * its IP ranges (docs/workflows.md says how).
 *
 * The body is parsed with libxml2, namespace-aware (the sf: prefix is not
 * fixed; elements are matched by namespace URI and local name), without
 * the network and without any DTD: a message holding one is refused before
 * parsing, so no entity can be defined or expanded. Each Notification
 * becomes its own event (id: the Notification Id, which Salesforce repeats
 * on a redelivery). The SOAP Ack that tells Salesforce the message arrived
 * is handed to sb->respond together with the events: the core sends it
 * only once every event is on disk, and a 503 without an Ack otherwise, so
 * Salesforce delivers again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "salesforce.h"

#define NS_SOAP "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_OUTBOUND "http://soap.sforce.com/2005/09/outbound"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define MAX_NOTIFICATIONS 100
#define MAX_DEPTH 8

/* Salesforce's required answer (connectors.md 10.1): anything else is a
 * failed delivery. */
static const char ack[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\n"
    " <soapenv:Body><notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n"
    "  <Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>\n";

const struct sb_param salesforce_outbound_params[] = {
    {.name = "organization_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED,
     .help = "the org's id, 18 or 15 characters (Setup > Company Information > Salesforce.com "
             "Organization ID); messages from any other org are refused"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these sObject types start this workflow (Lead Contact Opportunity ...)"},
    SB_END,
};

struct outbound_hook {
    char org18[19];
};

enum sb_status salesforce_outbound_validate(const struct sb_host *sb, struct sb_call *call)
{
    const char *org = sb->param_string(call, "organization_id");
    char id18[19];
    if (org && salesforce_id18(org, id18) < 0) {
        sb->config_error(call, "organization_id",
                         "'%s' is not a Salesforce organization id: 15 or 18 letters and digits "
                         "(00D...), copied as shown in Company Information",
                         org);
        return SB_FAIL;
    }
    return SB_OK;
}

enum sb_status salesforce_outbound_setup(const struct sb_host *sb, struct sb_call *call)
{
    /* the parser's global state is made here, on the main thread, before
     * receive runs on workers (libxml2's rule for threaded use) */
    xmlInitParser();
    const char *org = sb->param_string(call, "organization_id");
    struct outbound_hook *h = calloc(1, sizeof(*h));
    if (!h)
        return sb->fail(call, "out of memory");
    if (!org || salesforce_id18(org, h->org18) < 0) {
        free(h);
        return sb->fail(call, "organization_id is not a Salesforce organization id");
    }
    sb->set_state(call, h);
    return SB_OK;
}

void salesforce_outbound_teardown(const struct sb_host *sb, void *state)
{
    (void)sb;
    free(state);
}

/* --- the XML ---------------------------------------------------------------------- */

static bool is_element(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The first child element `ns`:`name` of parent, or NULL. */
static xmlNode *child(const xmlNode *parent, const char *ns, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (is_element(c, ns, name))
            return c;
    return NULL;
}

static bool has_element_children(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

/* The text of an element as a new JSON string (caller owns); "" when
 * empty. */
static struct json_object *text_value(xmlNode *n)
{
    xmlChar *text = xmlNodeGetContent(n);
    struct json_object *v = json_object_new_string(text ? (const char *)text : "");
    xmlFree(text);
    return v;
}

/* The text of child `ns`:`name`, copied into out; "" when absent. */
static void child_text(const xmlNode *parent, const char *ns, const char *name, char *out,
                       size_t out_size)
{
    out[0] = '\0';
    xmlNode *c = child(parent, ns, name);
    xmlChar *text = c ? xmlNodeGetContent(c) : NULL;
    if (text)
        snprintf(out, out_size, "%s", (const char *)text);
    xmlFree(text);
}

/*
 * The fields of an sObject as a JSON object (caller owns; NULL when out of
 * memory or nested too deep): each child element by its local name, its
 * text as a string, xsi:nil="true" as null, an element with elements inside
 * as an object, and a name that repeats (fieldsToNull) as an array.
 */
static struct json_object *fields_object(xmlNode *parent, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    struct json_object *obj = json_object_new_object();
    if (!obj)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        struct json_object *v;
        xmlChar *nil = xmlGetNsProp(c, (const xmlChar *)"nil", (const xmlChar *)NS_XSI);
        if (nil && strcmp((const char *)nil, "true") == 0)
            v = NULL;
        else if (has_element_children(c))
            v = fields_object(c, depth + 1);
        else
            v = text_value(c);
        bool null_ok = nil && strcmp((const char *)nil, "true") == 0;
        xmlFree(nil);
        if (!v && !null_ok) {
            json_object_put(obj);
            return NULL;
        }
        const char *key = (const char *)c->name;
        struct json_object *prev;
        if (json_object_object_get_ex(obj, key, &prev)) {
            if (!json_object_is_type(prev, json_type_array)) {
                struct json_object *list = json_object_new_array();
                json_object_array_add(list, json_object_get(prev));
                json_object_object_add(obj, key, list);
                prev = list;
            }
            json_object_array_add(prev, v);
        } else {
            json_object_object_add(obj, key, v);
        }
    }
    return obj;
}

/* The sObject type of xsi:type="sf:Lead" (the local part), into out. */
static void sobject_type(xmlNode *sobject, char *out, size_t out_size)
{
    out[0] = '\0';
    xmlChar *type = xmlGetNsProp(sobject, (const xmlChar *)"type", (const xmlChar *)NS_XSI);
    if (type) {
        const char *colon = strchr((const char *)type, ':');
        snprintf(out, out_size, "%s", colon ? colon + 1 : (const char *)type);
    }
    xmlFree(type);
}

/* What every event of a message shares. */
struct message {
    char org[64], action[64], enterprise_url[512], partner_url[512];
};

/* One Notification (already checked to hold an Id and an sObject) as an
 * event. SB_OK, or the rejection / emit's result. */
static enum sb_status emit_notification(const struct sb_host *sb, struct sb_call *call,
                                        const struct message *m, xmlNode *n)
{
    char id[64], type[128];
    child_text(n, NS_OUTBOUND, "Id", id, sizeof(id));
    xmlNode *sobject = child(n, NS_OUTBOUND, "sObject");
    sobject_type(sobject, type, sizeof(type));
    struct json_object *fields = fields_object(sobject, 0);
    struct json_object *payload = json_object_new_object();
    if (!fields || !payload) {
        json_object_put(fields);
        json_object_put(payload);
        return sb->fail(call, "out of memory");
    }
    json_object_object_add(payload, "type", json_object_new_string(type[0] ? type : "unknown"));
    json_object_object_add(payload, "notification_id", json_object_new_string(id));
    json_object_object_add(payload, "organization_id", json_object_new_string(m->org));
    json_object_object_add(payload, "action_id", json_object_new_string(m->action));
    json_object_object_add(payload, "enterprise_url", json_object_new_string(m->enterprise_url));
    json_object_object_add(payload, "partner_url", json_object_new_string(m->partner_url));
    json_object_object_add(payload, "sobject", fields);
    struct sb_event ev = SB_EVENT_INIT;
    ev.id = id;
    ev.type = type[0] ? type : "unknown";
    ev.payload = payload;
    return sb->emit(call, &ev);
}

/* How deep elements nest under n (1 for a leaf element). */
static int depth_of(const xmlNode *n)
{
    int deepest = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int d = depth_of(c);
        if (d > deepest)
            deepest = d;
    }
    return deepest + 1;
}

/* Whether a Notification can become an event: an Id, and an sObject that
 * does not nest deeper than fields_object reads. */
static bool notification_ok(const xmlNode *n)
{
    char id[64];
    child_text(n, NS_OUTBOUND, "Id", id, sizeof(id));
    const xmlNode *sobject = child(n, NS_OUTBOUND, "sObject");
    return id[0] && sobject && depth_of(sobject) <= MAX_DEPTH;
}

/* The notifications element of a SOAP envelope, or NULL. */
static xmlNode *notifications_of(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_element(root, NS_SOAP, "Envelope"))
        return NULL;
    return child(child(root, NS_SOAP, "Body"), NS_OUTBOUND, "notifications");
}

static bool holds_doctype(const unsigned char *body, size_t len)
{
    static const char needle[] = "<!DOCTYPE";
    size_t n = sizeof(needle) - 1;
    for (size_t i = 0; i + n <= len; i++)
        if (body[i] == '<' && memcmp(body + i, needle, n) == 0)
            return true;
    return false;
}

/* Check the org, emit each Notification, and answer with the Ack (sent by
 * the core once the events are stored). */
static enum sb_status receive_doc(const struct sb_host *sb, struct sb_call *call,
                                  const struct outbound_hook *h, xmlDoc *doc)
{
    xmlNode *notes = notifications_of(doc);
    if (!notes)
        return sb->reject(call, 400, "not a SOAP Outbound Message (no notifications element)");
    struct message m;
    child_text(notes, NS_OUTBOUND, "OrganizationId", m.org, sizeof(m.org));
    child_text(notes, NS_OUTBOUND, "ActionId", m.action, sizeof(m.action));
    child_text(notes, NS_OUTBOUND, "EnterpriseUrl", m.enterprise_url, sizeof(m.enterprise_url));
    child_text(notes, NS_OUTBOUND, "PartnerUrl", m.partner_url, sizeof(m.partner_url));
    char got[19];
    if (salesforce_id18(m.org, got) < 0 || strcmp(got, h->org18) != 0)
        return sb->reject(call, 403,
                          "OrganizationId does not match this workflow's "
                          "organization_id");
    /* every Notification is checked before any is emitted: a message is
     * taken whole or refused whole */
    size_t count = 0;
    for (xmlNode *c = notes->children; c; c = c->next) {
        if (!is_element(c, NS_OUTBOUND, "Notification"))
            continue;
        if (++count > MAX_NOTIFICATIONS)
            return sb->reject(call, 413, "more than %d Notifications in one message",
                              MAX_NOTIFICATIONS);
        if (!notification_ok(c))
            return sb->reject(call, 400, "a Notification without an Id or a readable sObject");
    }
    enum sb_status st = SB_OK;
    for (xmlNode *c = notes->children; c && st == SB_OK; c = c->next)
        if (is_element(c, NS_OUTBOUND, "Notification"))
            st = emit_notification(sb, call, &m, c);
    if (st != SB_OK)
        return st;
    return sb->respond(call, 200, "text/xml; charset=utf-8", ack, sizeof(ack) - 1);
}

enum sb_status salesforce_outbound_receive(const struct sb_host *sb, struct sb_call *call,
                                           const struct sb_request *req)
{
    const struct outbound_hook *h = sb->state(call);
    if (!h)
        return sb->reject(call, 500, "trigger not set up");
    if (req->body_len == 0 || req->body_len > (size_t)INT32_MAX)
        return sb->reject(call, 400, "empty body: an Outbound Message is a SOAP document");
    if (holds_doctype(req->body, req->body_len))
        return sb->reject(call, 400, "a DOCTYPE is not allowed in a SOAP message");
    xmlDoc *doc = xmlReadMemory((const char *)req->body, (int)req->body_len, "outbound.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return sb->reject(call, 400, "body is not well-formed XML");
    enum sb_status st = receive_doc(sb, call, h, doc);
    xmlFreeDoc(doc);
    return st;
}

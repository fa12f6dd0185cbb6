/*
 * envelope.h - oslo.messaging's 2.0 message envelope, without any AMQP.
 *
 * Every AMQP body novafs sends or reads is
 *     {"oslo.version": "2.0", "oslo.message": "<the message as a JSON string>"}
 * A request message is
 *     {"method", "args", "version", "namespace", "_msg_id", "_reply_q",
 *      "_timeout", "_unique_id", "_context_<key>"...}
 * (a cast has no _msg_id, _reply_q and _timeout; version and namespace are
 * there only when the target has them) and a reply is
 *     {"result", "failure", "ending": true, "_msg_id", "_unique_id"}
 * or, while a monitored call runs, an interim heartbeat with result and
 * failure null and "ending": false.  A notification is
 *     {"message_id", "publisher_id", "event_type", "priority", "payload",
 *      "timestamp"}
 * where failure is null or, again, a JSON *string* holding
 * {"class", "module", "message", "tb", "args", "kwargs"}.
 * /work/shared/oslo-vectors/ holds real captures of both.
 *
 * These functions are pure (no I/O), so that the format is unit-tested
 * against those captures apart from the transport (bus.c).  Decoding is
 * lenient where oslo.messaging is (a body without the envelope is taken as
 * the message itself, as oslo's deserialize_msg does); encoding always
 * produces exactly the captured shape.
 */
#ifndef NOVAFS_ENVELOPE_H
#define NOVAFS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"

/*
 * A request.  To encode, fill the fields (every pointer borrowed; args and
 * context may be NULL for {}, msg_id and reply_q NULL for a cast; unique_id
 * is required).  Decoding fills them with pointers into the decoded
 * message, valid until rpc_envelope_request_release().
 */
struct rpc_envelope_request {
	const char *method;
	json_t *args;           /* a JSON object */
	const char *version;    /* NULL: none (oslo reads that as "1.0") */
	const char *namespace;  /* NULL: none */
	const char *msg_id;     /* NULL for a cast */
	const char *reply_q;    /* NULL for a cast */
	long long timeout_s;    /* calls: _timeout, oslo's call-monitor
				 * timeout in seconds; 0 when null, absent
				 * or beyond a day */
	const char *unique_id;  /* NULL when the sender sent none */
	json_t *context;        /* "_context_" keys, prefix stripped; may be NULL */
	json_t *owner_;         /* decoding only: the message holding the above */
};

/*
 * A reply.  Decoding fills it the same way.  failure_class is NULL when
 * the call succeeded; result is then its value (NULL for JSON null).
 */
struct rpc_envelope_reply {
	const char *msg_id;
	const char *unique_id;
	json_t *result;
	bool ending;
	const char *failure_class;
	const char *failure_module;
	const char *failure_message;
	json_t *owner_;         /* the message */
	json_t *failure_owner_; /* the parsed failure string */
};

/* Appends the enveloped request to out.  Returns 0, or -EINVAL (with e
 * filled) when method or unique_id is missing or args/context is not an
 * object. */
int rpc_envelope_encode_request(const struct rpc_envelope_request *req,
				struct strbuf *out, struct rpc_error *e);

/* Appends the enveloped reply to out: a success with result (borrowed;
 * NULL means JSON null) when failure is NULL, otherwise a failure of
 * failure->cls with failure->message.  module names the failure's module
 * for Python peers (NULL: "novafs.exception").  Returns 0 or -EINVAL. */
int rpc_envelope_encode_reply(const char *msg_id, const char *unique_id,
			      json_t *result, const struct rpc_error *failure,
			      const char *module, struct strbuf *out,
			      struct rpc_error *e);
/* Appends oslo's interim call-monitor reply (ending: false). */
int rpc_envelope_encode_heartbeat(const char *msg_id, const char *unique_id,
				  struct strbuf *out, struct rpc_error *e);

/* Appends an enveloped notification (oslo's messagingv2 driver); payload
 * is borrowed, priority upper case ("INFO"), timestamp oslo's
 * "2026-11-25 18:39:03.123456" (UTC). */
int rpc_envelope_encode_notification(const char *message_id,
				     const char *publisher_id,
				     const char *event_type,
				     const char *priority, json_t *payload,
				     const char *timestamp, const char *unique_id,
				     struct strbuf *out, struct rpc_error *e);

/* Parses body (len bytes, not necessarily NUL-terminated) into req.
 * Returns 0, or -EBADMSG (e filled) when it is not JSON, not an oslo 2.x
 * envelope, or has no string "method"; req then owns nothing.  Release a
 * decoded request with rpc_envelope_request_release(). */
int rpc_envelope_decode_request(const void *body, size_t len,
				struct rpc_envelope_request *req,
				struct rpc_error *e);
void rpc_envelope_request_release(struct rpc_envelope_request *req);

/* Parses a reply body.  Returns 0 or -EBADMSG (e filled) when it is not a
 * reply (no _msg_id) or its failure is malformed.  Release with
 * rpc_envelope_reply_release(). */
int rpc_envelope_decode_reply(const void *body, size_t len,
			      struct rpc_envelope_reply *rep,
			      struct rpc_error *e);
void rpc_envelope_reply_release(struct rpc_envelope_reply *rep);

#endif

/*
 * contract.h - message contracts, declared once (after Nova's
 * compute/rpcapi.py) and used by both ends.
 *
 * Each service declares its topic, the version it implements and its
 * methods; each method its kind (cast, call, fanout), the version that
 * added it, who may send it, its arguments and, for calls, its result.
 * A caller names the declaration, never a string, so a method cannot be
 * misspelt at one end; the bus checks the caller's arguments against the
 * declaration before anything is sent (a mismatch is a bug: -EINVAL), and
 * the receiving bus checks them again before any handler runs (a mismatch
 * is a hostile or broken peer: an InvalidInput failure, logged, and
 * nothing of it is acted on).  docs/rpc.md is generated from the same
 * declarations (rpc_contract_doc), and a test keeps the two equal.
 *
 * The declarations themselves live in rpc/methods.h, one file per service.
 */
#ifndef NOVAFS_RPC_CONTRACT_H
#define NOVAFS_RPC_CONTRACT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

struct rpc_error;
struct rpc_request;

enum rpc_type {
	RPC_T_STRING,  /* a string of min..max bytes (max 0: 4096), no NUL */
	RPC_T_INT,     /* an integer in min..max */
	RPC_T_BOOL,
	RPC_T_ENUM,    /* one of values[] */
	RPC_T_UUID,    /* a canonical UUID, any case */
	RPC_T_NAME,    /* an object name: [A-Za-z0-9._-]{1,63}, not . or .. */
	RPC_T_HOST,    /* a host name: [A-Za-z0-9._-]{1,63} (also a queue suffix) */
	RPC_T_OBJECT,  /* an object with exactly the members declared */
	RPC_T_ARRAY,   /* min..max elements, each like members[0] */
	RPC_T_ANY,     /* any JSON value: for generic tools only */
	RPC_T_NULL,    /* null and nothing else: a call with nothing to say */
};

#define RPC_OPTIONAL 0x1u /* the key may be absent */
#define RPC_NULLABLE 0x2u /* the value may be null */

struct rpc_field {
	const char *name;                 /* NULL ends a list */
	enum rpc_type type;
	unsigned flags;
	long long min, max;
	const char *const *values;        /* RPC_T_ENUM, NULL-terminated */
	const struct rpc_field *members;  /* RPC_T_OBJECT / RPC_T_ARRAY */
	const char *doc;
};

/* Who may send a method; a message's sender is proved by RabbitMQ's
 * validated user_id (see bus.h, "Identities"). */
#define RPC_ROLE_API       0x1u /* novafs, user "novafs" */
#define RPC_ROLE_SCHEDULER 0x2u /* user "scheduler" */
#define RPC_ROLE_COMPUTE   0x4u /* user "compute-HOST" */
#define RPC_ROLE_NETWORK   0x8u /* user "network" */

enum rpc_kind { RPC_CAST, RPC_CALL, RPC_FANOUT };

struct rpc_service_decl;

struct rpc_method_decl {
	const struct rpc_service_decl *service;
	const char *name;
	enum rpc_kind kind;
	const char *version;               /* the version that added it: sent */
	unsigned senders;                  /* RPC_ROLE_* allowed to send it */
	const struct rpc_field *args;      /* NULL: not checked (tools only) */
	const struct rpc_field *result;    /* calls: one field describing it */
	const char *doc;
	/* What the sender may say, beyond its role: a rule between the
	 * sender's identity and the arguments (a heartbeat speaks only for
	 * its sender's host).  Run by the receiving bus after the role and
	 * argument checks; returns 0 or -EACCES with e ("NotAuthorized").
	 * NULL: none. */
	int (*check)(const struct rpc_request *req, struct rpc_error *e);
	const char *check_doc;             /* the rule, for docs/rpc.md */
};

struct rpc_service_decl {
	const char *topic;                 /* "compute" */
	const char *version;               /* implemented, "1.0"; NULL: none */
	const char *namespace;             /* NULL, as for oslo's default target */
	unsigned role;                     /* the RPC_ROLE_* that serves it */
	const struct rpc_method_decl *const *methods; /* NULL-terminated */
	const char *doc;
};

/*
 * Checks value against field (its name prefixes the reason).  Returns 0
 * or -EINVAL with e ("InvalidInput", e.g. "instance.vcpus: 5000 is out of
 * range 1..256").
 */
int rpc_field_check(const struct rpc_field *field, json_t *value,
		    struct rpc_error *e);
/* Checks a method's args object (NULL stands for {}).  Returns 0 or
 * -EINVAL with e naming the method and the argument. */
int rpc_args_check(const struct rpc_method_decl *m, json_t *args,
		   struct rpc_error *e);

/* Whether s is a name as RPC_T_NAME and RPC_T_HOST accept it:
 * [A-Za-z0-9._-]{1,63}, not "." or "..". */
bool rpc_name_valid(const char *s);

/* The method of svc called name, or NULL. */
const struct rpc_method_decl *rpc_service_method(const struct rpc_service_decl *svc,
						 const char *name);

/*
 * oslo.messaging's rule: a server implementing version impl serves a
 * request for version req when the majors are equal and req's minor is
 * not newer.  A NULL impl serves everything; a NULL req means "1.0".
 */
bool rpc_version_compatible(const char *impl, const char *req);

/*
 * oslo.messaging's dispatcher: does a server of svc serve a request for
 * method with version (NULL: "1.0") and namespace (NULL: none)?  Returns
 * 0; -EPROTONOSUPPORT ("UnsupportedVersion", naming the version and the
 * method, also for a namespace svc does not have); or -EOPNOTSUPP
 * ("NoSuchMethod") when the target is served but has_method is false.  e
 * gets oslo's exact class and message (tests/data holds the captures).
 */
int rpc_target_check(const struct rpc_service_decl *svc, const char *method,
		     const char *version, const char *namespace,
		     bool has_method, struct rpc_error *e);

/* Every service novafs declares, NULL-terminated (rpc/methods.c). */
extern const struct rpc_service_decl *const rpc_services[];

/* Writes the Markdown reference of every declared service (the generated
 * part of docs/rpc.md). */
void rpc_contract_doc(FILE *f);

#endif

/*
 * rpcdoc.c - prints the generated part of docs/rpc.md: every declared
 * service and method (rpc_contract_doc).  tests/unit/test_contract.c
 * fails while docs/rpc.md holds anything else between its markers.
 *
 *   rpcdoc > part.md
 */
#include <stdio.h>

#include "rpc/contract.h"

int main(void)
{
	rpc_contract_doc(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * version.h - the novafs release every service is built from: sent in
 * each heartbeat (services/NAME/version), so that a cloud being upgraded
 * shows which services run what.
 */
#ifndef NOVAFS_COMMON_VERSION_H
#define NOVAFS_COMMON_VERSION_H

#define NOVAFS_VERSION "0.8.0"

#endif

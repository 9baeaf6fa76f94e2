/* OpenPGM 5.3 (Debian libpgm-dev; pkg-config openpgm-5.3) for Swift.
 *
 * Order matters: pgm/socket.h declares pgm_poll_info() only #if defined(POLLIN) and
 * pgm_epoll_ctl() only #if defined(EPOLLIN), so <poll.h> and <sys/epoll.h> come first.
 * struct group_req (the size PGM_JOIN_GROUP / PGM_SEND_GROUP expect) is hidden by a strict
 * -std=c99/c11; the Clang importer compiles modules as gnu11, where it is visible. Do NOT define
 * _GNU_SOURCE here: it changes glibc's fd_set (__fds_bits vs fds_bits), and the importer then
 * refuses to merge this module's <sys/select.h> with Glibc's and Dispatch's.
 * See /work/pgm-research/NOTES.md §4 "Header quirks". */
#ifndef CPGM_SHIM_H
#define CPGM_SHIM_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <pgm/pgm.h>

#endif

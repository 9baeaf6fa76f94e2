// The Linux system calls Glibc's Swift module does not export: epoll and eventfd, plus the TCP
// option names the transports set. One header, no code of our own.
#ifndef CSYSSHIM_H
#define CSYSSHIM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#endif

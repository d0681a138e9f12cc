/*
 * c_ring: the floor for a process-per-node token ring on this machine, in plain C.
 *
 *   cc -O2 -o c_ring c_ring.c
 *   ./c_ring ring N SECONDS    N processes on UDP loopback pass one token around
 *   ./c_ring oneway SECONDS    one process sends as fast as it can, another counts
 *   ./c_ring oneway-acked SECONDS [WINDOW]
 *                              the same stream made reliable: sequence numbers, at most
 *                              WINDOW (default 4096) unacknowledged in flight, coalesced
 *                              cumulative acks, go-back-N retransmission on a timeout
 *
 * Each prints one JSON line (see bench/README.md). The token is an 8-byte hop counter
 * sent with raw sendto/recvfrom on blocking sockets: no encoding, no clocks, no
 * crypto, so the figure is what the kernel and the scheduler cost per hop, to compare
 * reparti's and the Python lab node's figures with.
 *
 * The parent binds every socket before forking (no datagram can meet a closed port),
 * the children start together at an agreed instant and stop on a SIGALRM at the
 * deadline, each writes its count into a pipe, and the parent waits for them all.
 * A child also dies with its parent (PR_SET_PDEATHSIG), so nothing is left behind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 1024
/* Time for the parent to fork every child before the run starts. */
#define START_DELAY_S 0.2
/* oneway: how long the receiver keeps reading what was still queued at the deadline. */
#define DRAIN_S 0.2
/* oneway-acked: default window, largest window accepted, retransmission timeout (no
 * progress of the cumulative ack for this long: go back to the oldest unacknowledged),
 * the socket buffers asked for, and the largest datagram read. */
#define ACKED_WINDOW 4096
#define ACKED_MAX_WINDOW (1 << 20)
#define ACKED_RTO_S 0.020
#define ACKED_SOCKBUF (4 * 1024 * 1024)
#define ACKED_MAX_DGRAM 256

/* What a child reports to the parent through the pipe (one atomic write). `extra` is a
 * second count, used by oneway-acked's sender (retransmissions); 0 elsewhere. */
struct report {
    int who;
    uint64_t count;
    uint64_t extra;
};

/* Set by a child's body before it returns, sent as `report.extra`. */
static uint64_t child_extra;

static volatile sig_atomic_t time_up;

static void on_alarm(int sig) {
    (void)sig;
    time_up = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Sleeps until `start`, then arms SIGALRM for `deadline`. No SA_RESTART: the alarm must
 * interrupt a blocked recvfrom/sendto, which then fails with EINTR. */
static void wait_start_arm_deadline(double start, double deadline) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0) die("sigaction");
    double wait = start - now_s();
    if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
    double left = deadline - now_s();
    if (left < 1e-6) left = 1e-6;
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)left;
    it.it_value.tv_usec = (suseconds_t)((left - (time_t)left) * 1e6);
    if (setitimer(ITIMER_REAL, &it, NULL) < 0) die("setitimer");
}

/* A blocking receive on `fd` gives up after 50 ms (EAGAIN), so that an alarm arriving
 * between the loop's check of `time_up` and the recvfrom that would have been
 * interrupted cannot leave a child blocked for ever (the others have stopped sending).
 * Only an idle socket ever waits that long: the figures do not see it. */
static void bounded_receive(int fd) {
    struct timeval tv = {0, 50 * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) die("setsockopt SO_RCVTIMEO");
}

/* A UDP socket on 127.0.0.1, on a port the kernel picks; its address goes in `addr`. */
static int bound_socket(struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = 0;
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) < 0) die("bind");
    socklen_t len = sizeof *addr;
    if (getsockname(fd, (struct sockaddr *)addr, &len) < 0) die("getsockname");
    return fd;
}

/* Forks a child that runs `body(who)`, reports its count into `report_fd` and exits. */
static pid_t spawn(int who, int report_fd, uint64_t (*body)(int)) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid > 0) return pid;
    /* The parent may have died between fork and prctl: then nobody would kill us. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(1);
    uint64_t count = body(who); /* before the initializer: it sets child_extra */
    struct report r = {who, count, child_extra};
    if (write(report_fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
    _exit(0);
}

/* Shared by the children (inherited through fork). */
static int n_nodes;
static int fds[MAX_NODES];
static struct sockaddr_in addrs[MAX_NODES];
static double start_at, deadline_at;

/* One ring node: forward the token to the successor, counting the hops received. */
static uint64_t ring_node(int me) {
    int next = (me + 1) % n_nodes;
    uint64_t hops = 0, token = 0;
    bounded_receive(fds[me]);
    wait_start_arm_deadline(start_at, deadline_at);
    if (me == 0 && sendto(fds[me], &token, sizeof token, 0, (struct sockaddr *)&addrs[next], sizeof addrs[next]) < 0)
        die("sendto");
    while (!time_up) {
        if (recvfrom(fds[me], &token, sizeof token, 0, NULL, NULL) < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            die("recvfrom");
        }
        hops++;
        token++;
        if (sendto(fds[me], &token, sizeof token, 0, (struct sockaddr *)&addrs[next], sizeof addrs[next]) < 0 &&
            errno != EINTR)
            die("sendto");
    }
    return hops;
}

/* oneway: node 0 counts what arrives, node 1 sends to node 0 as fast as it can. */
static uint64_t oneway_node(int me) {
    uint64_t count = 0, payload = 0;
    if (me == 0) {
        bounded_receive(fds[0]);
        wait_start_arm_deadline(start_at, deadline_at + DRAIN_S);
        while (!time_up) {
            if (recvfrom(fds[0], &payload, sizeof payload, 0, NULL, NULL) >= 0)
                count++;
            else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
                die("recvfrom");
        }
    } else {
        wait_start_arm_deadline(start_at, deadline_at);
        while (!time_up) {
            payload++;
            if (sendto(fds[1], &payload, sizeof payload, 0, (struct sockaddr *)&addrs[0], sizeof addrs[0]) >= 0)
                count++;
            else if (errno != EINTR && errno != ENOBUFS)
                die("sendto");
        }
    }
    return count;
}

/* oneway-acked: node 1 sends DATA messages numbered 1, 2, 3, ... to node 0, which
 * delivers them in order and acknowledges cumulatively.
 *
 * This is go-back-N, the simplest honest reliable stream, not a tuned one: the receiver
 * keeps no out-of-order buffer (a message that is not the next expected one is dropped)
 * and the sender, when the cumulative ack has not moved for ACKED_RTO_S, resends
 * everything from the oldest unacknowledged message on. There is no fast retransmit,
 * no RTT estimate and no congestion control. The sender keeps no copies: a message is
 * re-encoded from its sequence number when it is resent (the same bytes). */
static int acked_window = ACKED_WINDOW;

/* Both sockets get 4 MiB receive and send buffers. The kernel caps what it grants at
 * net.core.rmem_max / net.core.wmem_max (and then doubles it for its bookkeeping), so
 * on a machine with smaller limits this asks for 4 MiB and gets less, silently. A full
 * default window of 4096 datagrams of ~60 bytes takes ~4 MiB of receive buffer in the
 * kernel's accounting (each datagram is charged its whole buffer, ~1 KiB, not its bytes). */
static void big_buffers(int fd) {
    int size = ACKED_SOCKBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0) die("setsockopt SO_RCVBUF");
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) < 0) die("setsockopt SO_SNDBUF");
}

/* The number after `key` (e.g. `"seq":`) in a datagram, or 0 if there is none. */
static uint64_t field(const char *buf, const char *key) {
    const char *p = strstr(buf, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* A DATA message of ~60 bytes, like a small JSON envelope; returns its length. */
static int encode_data(char *buf, size_t size, uint64_t seq) {
    return snprintf(buf, size, "{\"v\":1,\"from\":1,\"to\":0,\"seq\":%llu,\"type\":\"DATA\",\"body\":\"x\"}",
                    (unsigned long long)seq);
}

/* Receiver (node 0): wait for a datagram, read everything queued (MSG_DONTWAIT until
 * EAGAIN), counting each that is the next expected one, then send one cumulative ack
 * (the highest sequence number received in order) for the whole batch. Returns the
 * number delivered in order. poll() has a timeout so that an alarm arriving just before
 * it cannot leave the receiver waiting for a sender that has stopped. */
static uint64_t acked_receiver(void) {
    char buf[ACKED_MAX_DGRAM + 1], ack[64];
    uint64_t expected = 1;
    struct pollfd pfd = {fds[0], POLLIN, 0};
    big_buffers(fds[0]);
    wait_start_arm_deadline(start_at, deadline_at + DRAIN_S);
    while (!time_up) {
        int ready = poll(&pfd, 1, 50);
        if (ready < 0 && errno != EINTR) die("poll");
        if (ready <= 0) continue;
        int batch = 0;
        for (;;) {
            ssize_t got = recv(fds[0], buf, ACKED_MAX_DGRAM, MSG_DONTWAIT);
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                die("recv");
            }
            buf[got] = '\0';
            batch++;
            if (field(buf, "\"seq\":") == expected) expected++; /* else: out of order, dropped */
        }
        if (batch == 0) continue;
        int len = snprintf(ack, sizeof ack, "{\"type\":\"ACK\",\"ack\":%llu}", (unsigned long long)(expected - 1));
        if (sendto(fds[0], ack, (size_t)len, 0, (struct sockaddr *)&addrs[1], sizeof addrs[1]) < 0 && errno != EINTR &&
            errno != ENOBUFS && errno != EAGAIN)
            die("sendto");
    }
    return expected - 1;
}

/* Sender (node 1): between sends, read the acks queued (non-blocking); send the next
 * message while fewer than `acked_window` are unacknowledged, otherwise block in poll()
 * for an ack; when the cumulative ack has not moved for ACKED_RTO_S, go back to the
 * oldest unacknowledged message and send again from there. Returns the datagrams sent
 * (first sends and resends); the resends go in child_extra. */
static uint64_t acked_sender(void) {
    char buf[ACKED_MAX_DGRAM + 1];
    uint64_t base = 1;    /* oldest unacknowledged */
    uint64_t next = 1;    /* next to send */
    uint64_t highest = 0; /* highest ever sent: sending at or below it is a resend */
    uint64_t sent = 0, resent = 0;
    const uint64_t window = (uint64_t)acked_window;
    struct pollfd pfd = {fds[1], POLLIN, 0};
    big_buffers(fds[1]);
    wait_start_arm_deadline(start_at, deadline_at);
    double progress_at = now_s();
    while (!time_up) {
        /* The acks queued, without waiting. */
        for (;;) {
            ssize_t got = recv(fds[1], buf, ACKED_MAX_DGRAM, MSG_DONTWAIT);
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                die("recv");
            }
            buf[got] = '\0';
            uint64_t ack = field(buf, "\"ack\":");
            if (ack >= base && ack <= highest) {
                base = ack + 1;
                progress_at = now_s();
            }
        }
        if (next < base) next = base; /* acked past where a go-back restarted */
        double now = now_s();
        if (base < next && now - progress_at >= ACKED_RTO_S) {
            next = base; /* go back N */
            progress_at = now;
        }
        if (next - base < window) {
            int len = encode_data(buf, sizeof buf, next);
            if (sendto(fds[1], buf, (size_t)len, 0, (struct sockaddr *)&addrs[0], sizeof addrs[0]) >= 0) {
                sent++;
                if (next <= highest)
                    resent++;
                else
                    highest = next;
                next++;
            } else if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN) {
                die("sendto");
            }
        } else {
            /* Window full: wait for an ack, at most until the retransmission timeout. */
            int wait_ms = (int)((progress_at + ACKED_RTO_S - now) * 1000.0) + 1;
            if (wait_ms < 1) wait_ms = 1;
            if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) die("poll");
        }
    }
    child_extra = resent;
    return sent;
}

static uint64_t oneway_acked_node(int me) {
    return me == 0 ? acked_receiver() : acked_sender();
}

/* Starts `n` children running `body`, waits for them all, and collects their counts
 * (and, if `extras` is not NULL, their second counts). */
static void run_children(int n, double seconds, uint64_t (*body)(int), uint64_t *counts, uint64_t *extras) {
    int pipefd[2];
    if (pipe(pipefd) < 0) die("pipe");
    n_nodes = n;
    for (int i = 0; i < n; i++) fds[i] = bound_socket(&addrs[i]);
    start_at = now_s() + START_DELAY_S;
    deadline_at = start_at + seconds;
    pid_t pids[MAX_NODES];
    for (int i = 0; i < n; i++) pids[i] = spawn(i, pipefd[1], body);
    close(pipefd[1]);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        pid_t got;
        while ((got = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR) {
        }
        if (got < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    struct report r;
    while (read(pipefd[0], &r, sizeof r) == (ssize_t)sizeof r)
        if (r.who >= 0 && r.who < n) {
            counts[r.who] = r.count;
            if (extras) extras[r.who] = r.extra;
        }
    if (failed) {
        fprintf(stderr, "c_ring: a child failed\n");
        exit(1);
    }
}

static int usage(void) {
    fprintf(stderr, "usage: c_ring ring N SECONDS | c_ring oneway SECONDS | c_ring oneway-acked SECONDS [WINDOW]\n");
    return 2;
}

int main(int argc, char **argv) {
    static uint64_t counts[MAX_NODES], extras[MAX_NODES];
    if (argc == 4 && strcmp(argv[1], "ring") == 0) {
        int n = atoi(argv[2]);
        double seconds = atof(argv[3]);
        if (n < 2 || n > MAX_NODES || !(seconds > 0)) return usage();
        run_children(n, seconds, ring_node, counts, NULL);
        uint64_t hops = 0;
        for (int i = 0; i < n; i++) hops += counts[i];
        printf("{\"impl\":\"c\",\"mode\":\"ring\",\"n\":%d,\"hops\":%llu,\"seconds\":%.3f,\"hops_per_s\":%.0f,"
               "\"us_per_hop\":%.2f}\n",
               n, (unsigned long long)hops, seconds, hops / seconds, hops ? seconds * 1e6 / hops : 0.0);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "oneway") == 0) {
        double seconds = atof(argv[2]);
        if (!(seconds > 0)) return usage();
        run_children(2, seconds, oneway_node, counts, NULL);
        uint64_t received = counts[0], sent = counts[1];
        printf("{\"impl\":\"c\",\"mode\":\"oneway\",\"seconds\":%.3f,\"sent\":%llu,\"received\":%llu,"
               "\"sent_per_s\":%.0f,\"received_per_s\":%.0f,\"loss\":%.4f}\n",
               seconds, (unsigned long long)sent, (unsigned long long)received, sent / seconds, received / seconds,
               sent ? 1.0 - (double)received / sent : 0.0);
        return 0;
    }
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "oneway-acked") == 0) {
        double seconds = atof(argv[2]);
        long window = argc == 4 ? strtol(argv[3], NULL, 10) : ACKED_WINDOW;
        if (!(seconds > 0) || window < 1 || window > ACKED_MAX_WINDOW) return usage();
        acked_window = (int)window;
        run_children(2, seconds, oneway_acked_node, counts, extras);
        uint64_t delivered = counts[0], sent = counts[1], resent = extras[1];
        printf("{\"impl\":\"c\",\"mode\":\"oneway-acked\",\"n\":2,\"window\":%d,\"seconds\":%.3f,\"sent\":%llu,"
               "\"delivered\":%llu,\"received_per_s\":%.0f,\"retransmitted\":%llu,\"loss\":%.4f}\n",
               acked_window, seconds, (unsigned long long)sent, (unsigned long long)delivered, delivered / seconds,
               (unsigned long long)resent, sent ? (double)resent / sent : 0.0);
        return 0;
    }
    return usage();
}

/* Stop flag set by signal handlers (see stop.h). */
#include "train/stop.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) {
    stop_flag = 1;
    stop_sig = sig;
}

void isb_stop_install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool isb_stop_requested(void) { return stop_flag != 0; }
void isb_stop_request(void) { stop_flag = 1; }
void isb_stop_clear(void) {
    stop_flag = 0;
    stop_sig = 0;
}
int isb_stop_signal(void) { return stop_sig; }

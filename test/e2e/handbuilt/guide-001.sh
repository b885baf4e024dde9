#!/bin/sh
# A pair built by hand from guide 001 (shared/seeds/001_*.txt), on a RHEL-like lab host: firewalld stopped and
# disabled (the guide's preparation), keepalived and nginx from the repository (dnf), keepalived logging to local0
# (-D -S 0) into its own file, email settings, a check run every 2 s, notify_master/backup/fault scripts, and
# `include /etc/keepalived/keepalived.conf.d/*.conf` holding the second instance of an active-active pair.
# Arguments: STATE1 PRIO1 STATE2 PRIO2 VRID1 VRID2 VIP1 VIP2 WEB1 WEB2
set -e
systemctl disable --now firewalld >/dev/null 2>&1 || true
dnf install -y -q keepalived nginx >/dev/null 2>&1
cat > /etc/nginx/conf.d/lb.conf <<N
upstream backend {
    server $9:80;
    server ${10}:80;
}
server {
    listen 80;
    location / {
        proxy_pass http://backend;
    }
}
N
nginx -t 2>/dev/null
systemctl enable --now nginx >/dev/null 2>&1
cat > /etc/keepalived/notify.sh <<'S'
#!/bin/sh
logger -p local0.notice -t keepalived-notify "became $1"
S
chmod 755 /etc/keepalived/notify.sh
sed -i 's/^KEEPALIVED_OPTIONS=.*/KEEPALIVED_OPTIONS="-D -S 0"/' /etc/sysconfig/keepalived
echo 'local0.*    /var/log/keepalived.log' > /etc/rsyslog.d/keepalived.conf
systemctl restart rsyslog
mkdir -p /etc/keepalived/keepalived.conf.d
cat > /etc/keepalived/keepalived.conf <<K
global_defs {
    notification_email {
        ops@example.com
    }
    notification_email_from keepalived@example.com
    smtp_server 127.0.0.1
    smtp_connect_timeout 30
}

vrrp_script check_nginx {
    script "/usr/bin/killall -0 nginx"
    interval 2
    fall 3
    rise 1
}

vrrp_instance VI_1 {
    state $1
    interface host0
    virtual_router_id $5
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        $7/24
    }
    track_script {
        check_nginx
    }
    notify_master "/etc/keepalived/notify.sh master"
    notify_backup "/etc/keepalived/notify.sh backup"
    notify_fault "/etc/keepalived/notify.sh fault"
}

include /etc/keepalived/keepalived.conf.d/*.conf
K
cat > /etc/keepalived/keepalived.conf.d/vi_2.conf <<K
vrrp_instance VI_2 {
    state $3
    interface host0
    virtual_router_id $6
    priority $4
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 2222
    }
    virtual_ipaddress {
        $8/24
    }
    track_script {
        check_nginx
    }
}
K
systemctl enable keepalived >/dev/null 2>&1
systemctl restart keepalived

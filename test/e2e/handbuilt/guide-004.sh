#!/bin/sh
# A pair built by hand from guide 004 (shared/seeds/004_*.txt), on a Debian lab host: keepalived from the
# distribution (the lab's apt repository), the guide's keepalived.conf (adapted as a user must for keepalived 2.2:
# no vrrp_strict, no vrrp_garp_interval 0) with its chk_nginx.sh every 2 s and weight -5, and the guide's nginx
# upstream for the two web hosts. Arguments: STATE PRIORITY VRID VIP WEB1 WEB2
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q keepalived >/dev/null 2>&1
cat > /etc/keepalived/chk_nginx.sh <<'S'
#!/bin/bash
chk=$(ps -C nginx --no-heading|wc -l)
if [ "${chk}" = "0" ]; then
    systemctl start nginx
    sleep 2
    chk=$(ps -C nginx --no-heading|wc -l)
    if [ "${chk}" = "0" ]; then
        systemctl stop keepalived
    fi
fi
S
chmod +x /etc/keepalived/chk_nginx.sh
cat > /etc/keepalived/keepalived.conf <<K
! Configuration File for keepalived

global_defs {
   notification_email {
     acassen@firewall.loc
     failover@firewall.loc
     sysadmin@firewall.loc
   }
   notification_email_from Alexandre.Cassen@firewall.loc
   smtp_server 192.168.200.1
   smtp_connect_timeout 30
   router_id LVS_DEVEL
   vrrp_skip_check_adv_addr
}

vrrp_script chk_nginx {
    script "/etc/keepalived/chk_nginx.sh"
    interval 2
    weight -5
}

vrrp_instance VI_1 {
    state $1        # BACKUP on the backup
    interface host0
    virtual_router_id $3
    priority $2     # lower on the backup
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
       $4
    }
track_script {
   chk_nginx
    }
}
K
rm -f /etc/nginx/sites-enabled/default
cat > /etc/nginx/conf.d/web.conf <<N
upstream web {
    server $5:80 weight=1 max_fails=3 fail_timeout=20s;
    server $6:80 weight=2 max_fails=3 fail_timeout=20s;
}

server {
  listen 80;
  server_name www.example.org;

  location / {
    proxy_pass http://web;
    proxy_set_header HOST \$http_host;
    proxy_set_header X-Real-IP \$remote_addr;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  }
}
N
nginx -t 2>/dev/null
systemctl reload nginx
systemctl enable keepalived >/dev/null 2>&1
systemctl restart keepalived

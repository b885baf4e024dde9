#!/bin/sh
# A dual-stack pair in the older style: one IPv4 vrrp_instance, its IPv6 address in virtual_ipaddress_excluded (an
# excluded address of any family moves with the instance, unadvertised). Arguments: PRIO VRID VIP4 VIP6 WEB1 WEB2
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q keepalived >/dev/null 2>&1
cat > /etc/keepalived/keepalived.conf <<K
vrrp_script chk_nginx {
    script "/usr/bin/curl -s -o /dev/null --max-time 1 http://127.0.0.1/"
    interval 1
    fall 2
    rise 1
}
vrrp_instance VI_DS {
    state BACKUP
    interface host0
    virtual_router_id $2
    priority $1
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass dsPass12
    }
    virtual_ipaddress {
        $3
    }
    virtual_ipaddress_excluded {
        $4
    }
    track_script {
        chk_nginx
    }
}
K
rm -f /etc/nginx/sites-enabled/default
cat > /etc/nginx/conf.d/ds.conf <<N
upstream ds {
    server $5:80;
    server $6:80;
}
server {
    listen 80;
    listen [::]:80;
    location / {
        proxy_pass http://ds;
    }
}
N
nginx -t 2>/dev/null
systemctl reload nginx
systemctl enable keepalived >/dev/null 2>&1
systemctl restart keepalived

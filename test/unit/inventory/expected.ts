// Captured from ansible-core 2.14.18: `ansible-inventory -i <source> --list` run in fixtures/.
// Regenerate with the command in each key; do not edit by hand.
export const ANSIBLE_LIST: Record<string, any> = {
 "basic.ini": {
  "_meta": {
   "hostvars": {
    "10.1.2.3": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80
    },
    "alpha.example.com": {
     "ansible_host": "10.0.0.1",
     "ansible_user": "deploy",
     "av": 1,
     "esc": "a\"b",
     "fl": 0.5,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80,
     "neg": -3,
     "tup": [
      1,
      2
     ]
    },
    "db-a": {
     "ansible_port": 2222,
     "av": 1,
     "c": "a",
     "d": {
      "k": "v"
     },
     "e": "",
     "f": 1.5,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "h": 31,
     "http_port": 80,
     "n": null,
     "o": "0644",
     "q": 5,
     "s": "hello",
     "t": true,
     "y": "a b",
     "yy": "yes",
     "z": [
      1,
      2
     ]
    },
    "db-b": {
     "ansible_port": 2222,
     "av": 1,
     "c": "a",
     "d": {
      "k": "v"
     },
     "e": "",
     "f": 1.5,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "h": 31,
     "http_port": 80,
     "n": null,
     "o": "0644",
     "q": 5,
     "s": "hello",
     "t": true,
     "y": "a b",
     "yy": "yes",
     "z": [
      1,
      2
     ]
    },
    "db-c": {
     "ansible_port": 2222,
     "av": 1,
     "c": "a",
     "d": {
      "k": "v"
     },
     "e": "",
     "f": 1.5,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "h": 31,
     "http_port": 80,
     "n": null,
     "o": "0644",
     "q": 5,
     "s": "hello",
     "t": true,
     "y": "a b",
     "yy": "yes",
     "z": [
      1,
      2
     ]
    },
    "dbonly": {
     "av": 1,
     "gv1": 99
    },
    "late1": {
     "av": 1,
     "gv1": 0,
     "lv": "late"
    },
    "ungr1": {
     "av": 1,
     "gv1": 0,
     "x": 1
    },
    "ungr2": {
     "ansible_port": 2200,
     "av": 1,
     "gv1": 0
    },
    "w1": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80
    },
    "w4": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80
    },
    "w7": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80
    },
    "web01": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80,
     "port_a": 22
    },
    "web02": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80,
     "port_a": 22
    },
    "web03": {
     "av": 1,
     "gv1": 5,
     "gv2": "5",
     "gv3": "hello world",
     "gv4": [
      1,
      2
     ],
     "gv5": "yes",
     "gv6": "xy",
     "gv7": true,
     "http_port": 80,
     "port_a": 22
    }
   }
  },
  "all": {
   "children": [
    "ungrouped",
    "db"
   ]
  },
  "db": {
   "children": [
    "web",
    "late"
   ],
   "hosts": [
    "dbonly"
   ]
  },
  "late": {
   "hosts": [
    "late1"
   ]
  },
  "ungrouped": {
   "hosts": [
    "ungr1",
    "ungr2"
   ]
  },
  "web": {
   "hosts": [
    "web01",
    "web02",
    "web03",
    "db-a",
    "db-b",
    "db-c",
    "w1",
    "w4",
    "w7",
    "alpha.example.com",
    "10.1.2.3"
   ]
  }
 },
 "diamond.ini": {
  "_meta": {
   "hostvars": {
    "hb": {
     "own": "hb",
     "v_all_levels": "bottom",
     "v_lr": "left",
     "v_side": "left",
     "v_top": "top"
    },
    "hz": {
     "v_all_levels": "top",
     "v_lr": "top",
     "v_side": "zeta",
     "v_top": "top"
    }
   }
  },
  "all": {
   "children": [
    "ungrouped",
    "top"
   ]
  },
  "bottom": {
   "hosts": [
    "hb"
   ]
  },
  "left": {
   "children": [
    "bottom"
   ]
  },
  "right": {
   "children": [
    "bottom"
   ]
  },
  "top": {
   "children": [
    "left",
    "right",
    "zeta"
   ]
  },
  "zeta": {
   "hosts": [
    "hz"
   ]
  }
 },
 "diamond_vars": {
  "_meta": {
   "hostvars": {
    "hb": {
     "gv_all": "inv_all",
     "own": "host_vars",
     "v_all_levels": "bottom",
     "v_file": "host_vars",
     "v_lr": "gv_left",
     "v_side": "left",
     "v_top": "top"
    },
    "hz": {
     "gv_all": "inv_all",
     "v_all_levels": "top",
     "v_file": "all",
     "v_lr": "gv_all",
     "v_side": "zeta",
     "v_top": "top"
    }
   }
  },
  "all": {
   "children": [
    "ungrouped",
    "top"
   ]
  },
  "bottom": {
   "hosts": [
    "hb"
   ]
  },
  "left": {
   "children": [
    "bottom"
   ]
  },
  "right": {
   "children": [
    "bottom"
   ]
  },
  "top": {
   "children": [
    "left",
    "right",
    "zeta"
   ]
  },
  "zeta": {
   "hosts": [
    "hz"
   ]
  }
 },
 "h1,h2:2222,[::1]:22, 10.0.0.5:23": {
  "_meta": {
   "hostvars": {
    "10.0.0.5": {
     "ansible_port": 23
    },
    "::1": {
     "ansible_port": 22
    },
    "h2": {
     "ansible_port": 2222
    }
   }
  },
  "all": {
   "children": [
    "ungrouped"
   ]
  },
  "ungrouped": {
   "hosts": [
    "h1",
    "h2",
    "::1",
    "10.0.0.5"
   ]
  }
 },
 "hosts.yml": {
  "_meta": {
   "hostvars": {
    "db1": {
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    },
    "repa": {
     "ntp": "pool.ntp.org",
     "octal": 420,
     "replica": true,
     "yes_value": true
    },
    "repb": {
     "ntp": "pool.ntp.org",
     "octal": 420,
     "replica": true,
     "yes_value": true
    },
    "top1": {
     "ansible_host": "192.168.0.1",
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    },
    "top2": {
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    },
    "web-x": {
     "ansible_port": 2222,
     "http_port": 80,
     "nested": {
      "a": 1,
      "b": [
       1,
       2
      ]
     },
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    },
    "web1.example.com": {
     "http_port": 8080,
     "nested": {
      "a": 1,
      "b": [
       1,
       2
      ]
     },
     "ntp": "pool.ntp.org",
     "octal": 420,
     "role": "both",
     "yes_value": true
    },
    "web2.example.com": {
     "http_port": 8080,
     "nested": {
      "a": 1,
      "b": [
       1,
       2
      ]
     },
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    },
    "web3.example.com": {
     "http_port": 8080,
     "nested": {
      "a": 1,
      "b": [
       1,
       2
      ]
     },
     "ntp": "pool.ntp.org",
     "octal": 420,
     "yes_value": true
    }
   }
  },
  "all": {
   "children": [
    "ungrouped",
    "webservers",
    "dbservers",
    "empty_group"
   ]
  },
  "dbservers": {
   "children": [
    "replicas"
   ],
   "hosts": [
    "db1",
    "web1.example.com"
   ]
  },
  "replicas": {
   "hosts": [
    "repa",
    "repb"
   ]
  },
  "ungrouped": {
   "hosts": [
    "top1",
    "top2"
   ]
  },
  "webservers": {
   "hosts": [
    "web1.example.com",
    "web2.example.com",
    "web3.example.com",
    "web-x"
   ]
  }
 },
 "invdir": {
  "_meta": {
   "hostvars": {
    "d1": {
     "from_json": 1,
     "shared": "all"
    },
    "w1": {
     "from_json": 1,
     "hv": "w1",
     "shared": "b",
     "wa": 1,
     "wb": 2
    },
    "w2": {
     "a": 1,
     "from_json": 1,
     "shared": "b",
     "wa": 1,
     "wb": 2
    },
    "w3": {
     "from_json": 1,
     "shared": "b",
     "wa": 1,
     "wb": 2
    },
    "x1": {
     "from_json": 1,
     "k": "v",
     "shared": "all"
    }
   }
  },
  "all": {
   "children": [
    "ungrouped",
    "web",
    "extra",
    "db"
   ]
  },
  "db": {
   "hosts": [
    "d1"
   ]
  },
  "extra": {
   "hosts": [
    "x1"
   ]
  },
  "web": {
   "hosts": [
    "w1",
    "w2",
    "w3"
   ]
  }
 }
};

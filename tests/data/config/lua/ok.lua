-- fixture: the config module only checks that this file exists
return {}

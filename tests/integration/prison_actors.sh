# prison_actors.sh - the actors the prison tests act as (source it after
# lib.sh): one per role of the prison's role table (docs/scenarios.md),
# all of agency prison-01 unless named otherwise.
DUTY='"actor":{"user":"zhangwei","name":"张伟","role":"command_duty","agency":"prison-01"}'
LEADER='"actor":{"user":"liqiang","name":"李强","role":"duty_leader","agency":"prison-01"}'
AREA='"actor":{"user":"wangfang","name":"王芳","role":"area_officer","agency":"prison-01"}'
ADMIN='"actor":{"user":"zhaolei","name":"赵磊","role":"prison_admin","agency":"prison-01"}'
CHIEF='"actor":{"user":"chenjun","name":"陈军","role":"prison_leader","agency":"prison-01"}'
BUREAU='"actor":{"user":"sun-bureau","name":"孙明","role":"prison_bureau","agency":"bureau"}'
KIOSK='"actor":{"user":"svc:kiosk-03","role":"kiosk","agency":"prison-01"}'
SENSOR='"actor":{"user":"svc:perimeter-gw","role":"sensor","agency":"prison-01"}'
AUDITOR='"actor":{"user":"huang-audit","role":"auditor","agency":"prison-01"}'
PLUGIN='"actor":{"user":"plugin:legal","role":"SYSTEM","agency":"legal-01"}'

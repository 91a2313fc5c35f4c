{#-
    The newest value of a timestamp column is no older than `interval` `datepart`s
    (`datepart='day', interval=7`): data is still arriving. An empty model fails too.
-#}
{% test recency(model, field, datepart, interval) %}

with newest as (
    select
        max({{ field }}) as newest_value
    from {{ model }}
)

select
    newest_value
from newest
where newest_value is null
   or newest_value < current_timestamp - interval '{{ interval }} {{ datepart }}'

{% endtest %}

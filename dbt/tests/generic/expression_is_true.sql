{#-
    A row-level rule written as SQL holds on every row (`minutes_asleep <= minutes_in_bed`).
    Rows where the expression is null (a side missing) do not fail: not_null tests own that.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select
    *
from {{ model }}
where not ({{ expression }})

{% endtest %}

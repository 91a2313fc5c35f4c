{#-
    The columns together identify a row: the model's grain holds. Fails with each duplicated
    combination and how often it occurs.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {% for column in combination_of_columns -%}
    {{ column }},
    {% endfor -%}
    count(*) as occurrences
from {{ model }}
group by
    {% for column in combination_of_columns -%}
    {{ column }}{{ "," if not loop.last }}
    {% endfor -%}
having count(*) > 1

{% endtest %}
